// The state store: <root>/<id>/ holds state.json (written atomically: temp
// file + rename), config.json (the spec as created), exec.fifo (until start)
// and is itself the lock: commands that change a container hold flock(2) on
// the directory, so they serialize, and a crashed holder never blocks anyone.
import * as fs from 'fs';
import * as path from 'path';
import { AlreadyExistsError, NotAContainerError, NotFoundError, SystemError } from '../errors';
import { validateId } from './id';
import { EXEC_FIFO, STATE_FILE } from './paths';
import { FRONT_FILE, frontRecord } from './front-record';
import type { ContainerRecord } from './record';
import type { Spec } from '../spec/types';

export class Lock {
  constructor(private fd: number | null) {}
  release(): void {
    if (this.fd !== null) {
      fs.closeSync(this.fd); // closing the fd releases the flock
      this.fd = null;
    }
  }
}

function lockDir(dir: string, id: string): Lock {
  let fd: number;
  try {
    fd = fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError(id);
    throw e;
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const libc = require('../sys/libc') as typeof import('../sys/libc');
  libc.flock(fd, libc.LOCK_EX, dir);
  // the holder we waited for may have deleted the container
  let same = false;
  try {
    const a = fs.fstatSync(fd);
    const b = fs.statSync(dir);
    same = a.ino === b.ino && a.dev === b.dev && a.nlink > 0;
  } catch {
    same = false;
  }
  if (!same) {
    fs.closeSync(fd);
    throw new NotFoundError(id);
  }
  return new Lock(fd);
}

export class StateStore {
  constructor(readonly root: string) {}

  dir(id: string): string {
    return path.join(this.root, validateId(id));
  }

  fifoPath(id: string): string {
    return path.join(this.dir(id), EXEC_FIFO);
  }

  /** Make the container's directory; exactly one of several racing claims wins. */
  claim(id: string): Lock {
    const dir = this.dir(id);
    fs.mkdirSync(this.root, { recursive: true, mode: 0o711 });
    try {
      fs.mkdirSync(dir, { mode: 0o711 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new AlreadyExistsError(id);
      throw new SystemError(`mkdir "${dir}": ${(e as Error).message}`);
    }
    try {
      return lockDir(dir, id);
    } catch (e) {
      // nothing is in it yet: leave nothing behind
      fs.rmSync(dir, { recursive: true, force: true });
      throw e;
    }
  }

  lock(id: string): Lock {
    return lockDir(this.dir(id), id);
  }

  exists(id: string): boolean {
    return fs.existsSync(this.dir(id));
  }

  /**
   * The record, or NotFoundError.  A directory without state.json is a create
   * killed before it wrote anything when it is empty (or holds only a temp
   * state.json): it reads as a record with pid 0.  One that holds anything
   * else tsrun did not make: NotAContainerError, and nothing touches it.
   */
  read(id: string): ContainerRecord {
    const dir = this.dir(id);
    let text: string;
    try {
      text = fs.readFileSync(path.join(dir, STATE_FILE), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' && fs.existsSync(dir)) {
        if (!onlyClaimed(dir)) throw new NotAContainerError(id, dir);
        return { ociVersion: '1.2.0', id, pid: 0, pidStartTime: 0, bundle: '', rootfs: '', created: '', owner: '', annotations: {} };
      }
      throw new NotFoundError(id);
    }
    try {
      return JSON.parse(text) as ContainerRecord;
    } catch {
      throw new SystemError(`${path.join(dir, STATE_FILE)}: corrupt state file`);
    }
  }

  /**
   * state.json, and the front record (src/runtime/front-record.ts) for the C
   * front end: the old one goes first and the new one follows state.json, so
   * a front record, when there is one, always says what state.json says.
   */
  write(rec: ContainerRecord): void {
    const dir = this.dir(rec.id);
    const front = path.join(dir, FRONT_FILE);
    unlinkIfThere(front);
    writeFileAtomic(path.join(dir, STATE_FILE), JSON.stringify(rec));
    const text = frontRecord(rec, { root: this.root });
    if (text !== undefined) writeFileAtomic(front, text);
  }

  /** Writes <dir>/config.json; returns what it wrote. */
  writeConfig(id: string, spec: Spec): string {
    const text = JSON.stringify(spec);
    writeFileAtomic(path.join(this.dir(id), 'config.json'), text);
    return text;
  }

  readConfig(id: string): Spec {
    return JSON.parse(fs.readFileSync(path.join(this.dir(id), 'config.json'), 'utf8')) as Spec;
  }

  remove(id: string): void {
    // the front record first, as the C front's delete does: a `state` meanwhile asks TypeScript
    unlinkIfThere(path.join(this.dir(id), FRONT_FILE));
    fs.rmSync(this.dir(id), { recursive: true, force: true });
  }

  ids(): string[] {
    try {
      return fs
        .readdirSync(this.root, { withFileTypes: true })
        .filter((e) => e.isDirectory() && !e.name.startsWith('.')) // .replay (ids start with a letter or digit)
        .map((e) => e.name)
        .sort();
    } catch {
      return [];
    }
  }
}

/** The temp file writeFileAtomic makes for state.json (before its rename). */
const STATE_TEMP = new RegExp(`^${STATE_FILE.replace('.', '\\.')}\\.\\d+\\.tmp$`);

/** A state dir as claim() leaves it before state.json is there: empty, or only state.json's temp file. */
function onlyClaimed(dir: string): boolean {
  try {
    return fs.readdirSync(dir).every((n) => STATE_TEMP.test(n));
  } catch {
    return true; // gone meanwhile: NotFoundError follows
  }
}

/** Write via a temp file in the same directory and rename, so readers never see half a file. */
export function writeFileAtomic(file: string, data: string | Buffer, mode = 0o644): void {
  const tmp = `${file}.${process.pid}.tmp`; // the form STATE_TEMP knows
  try {
    fs.writeFileSync(tmp, data, { mode });
    fs.renameSync(tmp, file);
  } catch (e) {
    unlinkIfThere(tmp);
    throw e;
  }
}

/** unlink, when the file is there (fs.rmSync would load Node's rimraf: ~0.5 ms a call) */
function unlinkIfThere(file: string): void {
  try {
    fs.unlinkSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}
