// config.json: loading and validation, before any side effect.
//
// Two passes, both collecting every problem rather than stopping at the first:
//   1. the JSON Schema (schema/*.json), compiled at build time into
//      ./generated/validate-config.js — no ajv at run time;
//   2. semantic checks the schema cannot express (what runc's and youki's
//      validators check: namespaces vs. mappings/sysctls/hostname, absolute
//      paths, the rootfs, tsrun volumes...).
// Every problem is one line `config.json: <JSON pointer>: <message>`, and all
// of them are thrown together in one ConfigError.
//
// This is on the hot path of every `create`: keep imports to node builtins.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ConfigError } from '../errors';
import { validateConfig, validateProcess, validateResources, type SchemaError } from './generated/validate-config';
import type { Process, Resources, Spec } from './types';
import { parseVolume, VolumeError } from './volume';

export { parseVolume };

const FILE = 'config.json';

export interface ValidateOptions {
  /**
   * The config is used to create a container (default true): process and
   * process.args must be present, root must be present and root.path must exist.
   * False for a config checked on its own (e.g. after `tsrun spec`).
   */
  create?: boolean;
  /** Changes for this container only (CLI flags), applied to the parsed JSON before validation. */
  override?: (spec: Spec) => void;
}

/** Reads, parses and validates `<bundleDir>/config.json`. Throws ConfigError. */
export function loadSpec(bundleDir: string, opts?: ValidateOptions): { spec: Spec; configPath: string; raw: Buffer } {
  const configPath = path.join(bundleDir, FILE);
  let raw: Buffer;
  try {
    raw = fs.readFileSync(configPath);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const reason =
      e.code === 'ENOENT'
        ? 'no such file or directory (give the bundle with --bundle DIR; "tsrun spec" writes a config.json)'
        : e.code === 'EACCES'
          ? 'permission denied'
          : e.code === 'EISDIR'
            ? 'is a directory'
            : e.message;
    throw new ConfigError([`${configPath}: ${reason}`]);
  }
  const text = raw.toString('utf8');
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new ConfigError([`${FILE}: invalid JSON: ${describeJsonError(err as Error, text)}`]);
  }
  if (opts?.override && data && typeof data === 'object' && !Array.isArray(data)) opts.override(data as Spec);
  return { spec: validateSpec(data, bundleDir, opts), configPath, raw };
}

/** JSON.parse's message, with the position also given as line and column. */
function describeJsonError(err: Error, text: string): string {
  let msg = err.message.replace(/^JSON\.parse: /, '');
  const m = / at position (\d+)/.exec(msg);
  if (m) {
    const pos = Number(m[1]);
    const before = text.slice(0, pos);
    const line = before.split('\n').length;
    const col = pos - before.lastIndexOf('\n');
    msg = msg.replace(/ at position \d+.*$/, ` at line ${line}, column ${col}`);
  }
  return msg;
}

/**
 * Validates a parsed config.json against the schema and the semantic rules.
 * Returns it typed; throws one ConfigError listing every problem.
 */
export function validateSpec(spec: unknown, bundleDir: string, opts: ValidateOptions = {}): Spec {
  const problems: string[] = [];
  if (!validateConfig(spec)) {
    problems.push(...formatSchemaErrors(validateConfig.errors ?? [], spec));
  }
  if (isObject(spec)) {
    const add = (p: string, msg: string) => problems.push(line(p, msg));
    checkSemantics(spec, path.resolve(bundleDir), opts.create ?? true, add);
  }
  if (problems.length > 0) throw new ConfigError([...new Set(problems)]);
  return spec as Spec;
}

/**
 * Validates a process object read from `file` (`exec --process <file>`): the
 * schema of config.json's "process" plus its semantic checks (args non-empty,
 * absolute cwd, unique rlimits...). Lines are `<file>: <pointer>: <message>`.
 */
export function validateProcessFile(proc: unknown, file: string): Process {
  const problems: string[] = [];
  if (!validateProcess(proc)) problems.push(...formatSchemaErrors(validateProcess.errors ?? [], proc, file));
  checkProcessObject(proc, '', true, (p, msg) => problems.push(lineIn(p, msg, file)));
  if (problems.length > 0) throw new ConfigError([...new Set(problems)]);
  return proc as Process;
}

/** Validates linux.resources read from `file` (`update --resources <file>`). */
export function validateResourcesFile(resources: unknown, file: string): Resources {
  if (validateResources(resources)) return resources as Resources;
  throw new ConfigError(formatSchemaErrors(validateResources.errors ?? [], resources, file));
}

// ---------------------------------------------------------------------------
// Schema errors → lines

function lineIn(pointer: string, msg: string, file: string): string {
  return `${file}: ${pointer || '/'}: ${msg}`;
}
function line(pointer: string, msg: string): string {
  return lineIn(pointer, msg, FILE);
}

/** Escapes one JSON pointer token (RFC 6901). */
export function ptr(...tokens: Array<string | number>): string {
  return tokens.map((t) => '/' + String(t).replace(/~/g, '~0').replace(/\//g, '~1')).join('');
}

function valueAt(doc: unknown, pointer: string): unknown {
  if (pointer === '') return doc;
  let cur: any = doc;
  for (const raw of pointer.slice(1).split('/')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = cur[raw.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return cur;
}

function show(v: unknown): string {
  const s = JSON.stringify(v);
  if (s === undefined) return String(v);
  return s.length > 60 ? s.slice(0, 57) + '...' : s;
}

function typeList(t: unknown): string[] {
  return Array.isArray(t) ? t.map(String) : String(t).split(',');
}

/**
 * Turns ajv errors into `config.json: <pointer>: <message>` lines, readable and
 * without the noise of anyOf/oneOf branches. Exported for tests.
 */
export function formatSchemaErrors(errors: SchemaError[], doc: unknown, file = FILE): string[] {
  let errs = errors.slice();

  // anyOf/oneOf: the combinator's own error repeats what its branches said.
  // If every branch failed on "type" at the same place, say "must be A or B";
  // otherwise the value had a type some branch accepts: keep that branch's
  // complaints, drop the other branches' "type" errors.
  const combinatorPaths = new Set(
    errs.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf').map((e) => e.instancePath),
  );
  for (const p of combinatorPaths) {
    const here = errs.filter((e) => e.instancePath === p && e.keyword !== 'anyOf' && e.keyword !== 'oneOf');
    const typeErrs = here.filter((e) => e.keyword === 'type');
    let replacement: SchemaError[];
    if (here.length > 0 && typeErrs.length === here.length) {
      const types = [...new Set(typeErrs.flatMap((e) => typeList(e.params.type)))];
      replacement = [{ ...typeErrs[0], params: { type: types } }];
    } else if (here.length > 0) {
      replacement = here.filter((e) => e.keyword !== 'type');
    } else {
      // Only deeper errors: they say enough; keep the combinator's if there are none.
      const deeper = errs.some((e) => e.instancePath.startsWith(p + '/'));
      replacement = deeper ? [] : errs.filter((e) => e.instancePath === p).slice(0, 1);
    }
    errs = errs.filter((e) => e.instancePath !== p).concat(replacement);
  }

  const lines = errs.map((e) => formatOne(e, doc, file));
  return [...new Set(lines)];
}

function formatOne(e: SchemaError, doc: unknown, file: string): string {
  const p = e.params ?? {};
  const line = (pointer: string, msg: string) => lineIn(pointer, msg, file);
  const got = () => show(valueAt(doc, e.instancePath));
  switch (e.keyword) {
    case 'required': {
      const name = String(p.missingProperty);
      return line(e.instancePath + ptr(name), `missing required property "${name}"`);
    }
    case 'type': {
      const types = typeList(p.type);
      return line(e.instancePath, `must be ${types.join(' or ')}`);
    }
    case 'enum': {
      const allowed = (p.allowedValues as unknown[]).map((v) => show(v)).join(', ');
      return line(e.instancePath, `must be one of ${allowed} (got ${got()})`);
    }
    case 'const':
      return line(e.instancePath, `must be ${show(p.allowedValue)} (got ${got()})`);
    case 'additionalProperties':
      return line(e.instancePath, `unknown property "${p.additionalProperty}"`);
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return line(e.instancePath, `must be ${p.comparison} ${p.limit} (got ${got()})`);
    case 'minLength':
      return line(e.instancePath, p.limit === 1 ? 'must not be empty' : `must be at least ${p.limit} characters`);
    case 'maxLength':
      return line(e.instancePath, `must be at most ${p.limit} characters`);
    case 'minItems':
      return line(e.instancePath, p.limit === 1 ? 'must not be empty' : `must have at least ${p.limit} items`);
    case 'maxItems':
      return line(e.instancePath, `must have at most ${p.limit} items`);
    case 'pattern':
      return line(e.instancePath, `must match pattern "${p.pattern}" (got ${got()})`);
    case 'uniqueItems':
      return line(e.instancePath, `items ${p.j} and ${p.i} are identical`);
    case 'anyOf':
    case 'oneOf':
      return line(e.instancePath, 'does not match any of the allowed forms');
    default:
      return line(e.instancePath, e.message ?? `fails "${e.keyword}" ${JSON.stringify(p)}`);
  }
}

// ---------------------------------------------------------------------------
// Semantic checks. The schema may have failed too, so nothing here trusts a
// type: every value is checked before use, and a wrongly typed value (which
// the schema already reported) is skipped.

type Add = (pointer: string, msg: string) => void;

function isObject(v: unknown): v is Record<string, any> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
function isStr(v: unknown): v is string {
  return typeof v === 'string';
}
function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}
function isAbs(p: string): boolean {
  return p.startsWith('/');
}

interface NsInfo {
  /** Listed, new or joined. */
  has: boolean;
  /** Listed without a path: the container gets a new one. */
  isNew: boolean;
  path?: string;
}

function checkSemantics(spec: Record<string, any>, bundle: string, create: boolean, add: Add): void {
  checkVersion(spec, add);
  checkProcess(spec, create, add);
  checkRoot(spec, bundle, create, add);
  checkMounts(spec, add);
  checkHooks(spec, add);
  checkTsrun(spec, add);
  const linux = isObject(spec.linux) ? spec.linux : {};
  const ns = checkNamespaces(linux, add);
  checkUserns(linux, ns, add);
  checkHostname(spec, ns, add);
  checkSysctl(linux, ns, add);
  checkLinuxPaths(linux, add);
  checkCgroupsPath(linux, add);
  checkSeccomp(linux, add);
  if (linux.timeOffsets !== undefined && !ns('time').isNew) {
    add('/linux/timeOffsets', 'time offsets need a new time namespace (add {"type": "time"} to /linux/namespaces)');
  }
}

function checkVersion(spec: Record<string, any>, add: Add): void {
  if (isStr(spec.ociVersion) && !/^1\.\d+(\.\d+)?([-+].*)?$/.test(spec.ociVersion)) {
    add('/ociVersion', `unsupported ociVersion ${show(spec.ociVersion)} (tsrun supports 1.x)`);
  }
}

function checkProcess(spec: Record<string, any>, create: boolean, add: Add): void {
  // no process is allowed (the spec: create makes the container, start must
  // then fail: runtime/start.ts); exec --process files are checked elsewhere
  if (spec.process === undefined) return;
  checkProcessObject(spec.process, '/process', create, add);
}

/** Semantic checks of a process object found at JSON pointer `at`. */
function checkProcessObject(proc: unknown, at: string, create: boolean, add: Add): void {
  if (!isObject(proc)) return;
  if (create) {
    if (proc.args === undefined) add(at + '/args', 'missing required property "args"');
    else if (Array.isArray(proc.args) && proc.args.length === 0) add(at + '/args', 'must not be empty');
  }
  if (isStr(proc.cwd) && !isAbs(proc.cwd)) add(at + '/cwd', `cwd ${show(proc.cwd)} must be an absolute path`);

  const seen = new Map<string, number>();
  arr(proc.rlimits).forEach((r, i) => {
    if (!isObject(r) || !isStr(r.type)) return;
    const first = seen.get(r.type);
    if (first !== undefined) add(at + ptr('rlimits', i, 'type'), `duplicate rlimit ${show(r.type)} (also at ${at}/rlimits/${first})`);
    else seen.set(r.type, i);
    if (typeof r.soft === 'number' && typeof r.hard === 'number' && r.hard >= 0 && r.soft > r.hard) {
      add(at + ptr('rlimits', i), `soft limit ${r.soft} is greater than hard limit ${r.hard}`);
    }
  });

  const io = proc.ioPriority;
  if (isObject(io) && typeof io.priority === 'number' && (io.priority < 0 || io.priority > 7)) {
    add(at + '/ioPriority/priority', `must be between 0 and 7 (got ${io.priority})`);
  }

  const sch = proc.scheduler;
  if (isObject(sch) && isStr(sch.policy)) {
    if (typeof sch.nice === 'number' && (sch.nice < -20 || sch.nice > 19)) {
      add(at + '/scheduler/nice', `must be between -20 and 19 (got ${sch.nice})`);
    }
    const rt = sch.policy === 'SCHED_FIFO' || sch.policy === 'SCHED_RR';
    if (typeof sch.priority === 'number' && sch.priority !== 0 && !rt) {
      add(at + '/scheduler/priority', `a priority is only for SCHED_FIFO and SCHED_RR, not ${sch.policy}`);
    }
    if (rt && typeof sch.priority === 'number' && (sch.priority < 1 || sch.priority > 99)) {
      add(at + '/scheduler/priority', `must be between 1 and 99 for ${sch.policy} (got ${sch.priority})`);
    }
    if (sch.policy !== 'SCHED_DEADLINE') {
      for (const k of ['runtime', 'deadline', 'period']) {
        if (typeof sch[k] === 'number' && sch[k] !== 0) add(at + ptr('scheduler', k), `only for SCHED_DEADLINE, not ${sch.policy}`);
      }
    }
  }
}

function checkRoot(spec: Record<string, any>, bundle: string, create: boolean, add: Add): void {
  const root = spec.root;
  if (root === undefined) {
    if (create) add('/root', 'missing required property "root"');
    return;
  }
  if (!isObject(root) || !isStr(root.path)) return;
  if (root.path === '') {
    add('/root/path', 'must not be empty');
    return;
  }
  const layered = isObject(spec.tsrun) && Array.isArray(spec.tsrun.layers) && spec.tsrun.layers.length > 0;
  if (!create && !layered) return;
  const abs = path.resolve(bundle, root.path);
  let st: fs.Stats | undefined;
  try {
    st = fs.statSync(abs);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // With tsrun.layers, root.path is where the merged root will be shown.
    if (layered && code === 'ENOENT') return;
    add('/root/path', code === 'ENOENT' || code === 'ENOTDIR' ? `rootfs "${abs}" does not exist` : `rootfs "${abs}": ${(err as Error).message}`);
    return;
  }
  if (!st.isDirectory()) add('/root/path', `rootfs "${abs}" is not a directory`);
}

function checkMounts(spec: Record<string, any>, add: Add): void {
  arr(spec.mounts).forEach((m, i) => {
    if (!isObject(m)) return;
    if (isStr(m.destination) && !isAbs(m.destination)) {
      add(ptr('mounts', i, 'destination'), `mount destination ${show(m.destination)} must be absolute`);
    }
    if ((m.uidMappings === undefined) !== (m.gidMappings === undefined)) {
      add(ptr('mounts', i), 'an id-mapped mount needs both uidMappings and gidMappings');
    }
  });
}

const HOOK_KINDS = ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'];

function checkHooks(spec: Record<string, any>, add: Add): void {
  if (!isObject(spec.hooks)) return;
  for (const kind of HOOK_KINDS) {
    arr(spec.hooks[kind]).forEach((h, i) => {
      if (isObject(h) && isStr(h.path) && !isAbs(h.path)) {
        add(ptr('hooks', kind, i, 'path'), `hook path ${show(h.path)} must be absolute`);
      }
    });
  }
}

/** Whether the running kernel is at least major.minor (os.release(): "6.18.44-...") */
export function kernelAtLeast(major: number, minor: number, release = os.release()): boolean {
  const m = /^(\d+)\.(\d+)/.exec(release);
  if (!m) return true; // an unknown form: let the mount say
  const [a, b] = [Number(m[1]), Number(m[2])];
  return a > major || (a === major && b >= minor);
}

function checkTsrun(spec: Record<string, any>, add: Add): void {
  if (!isObject(spec.tsrun)) return;
  if (spec.tsrun.volatile === true) {
    if (!arr(spec.tsrun.layers).length) add(ptr('tsrun', 'volatile'), 'a volatile write layer needs tsrun.layers');
    else if (!kernelAtLeast(5, 10)) add(ptr('tsrun', 'volatile'), `overlayfs volatile needs Linux 5.10 or later (this is ${os.release()})`);
  }
  arr(spec.tsrun.volumes).forEach((v, i) => {
    if (!isStr(v)) return;
    try {
      parseVolume(v);
    } catch (err) {
      add(ptr('tsrun', 'volumes', i), `volume ${show(v)}: ${err instanceof VolumeError ? err.reason : (err as Error).message}`);
    }
  });
}

function checkNamespaces(linux: Record<string, any>, add: Add): (type: string) => NsInfo {
  const map = new Map<string, { path?: string; index: number }>();
  arr(linux.namespaces).forEach((n, i) => {
    if (!isObject(n) || !isStr(n.type)) return;
    const prev = map.get(n.type);
    if (prev) {
      add(ptr('linux', 'namespaces', i, 'type'), `duplicate namespace "${n.type}" (also at /linux/namespaces/${prev.index})`);
      return;
    }
    const nsPath = isStr(n.path) && n.path !== '' ? n.path : undefined;
    if (nsPath !== undefined && !isAbs(nsPath)) {
      add(ptr('linux', 'namespaces', i, 'path'), `namespace path ${show(nsPath)} must be absolute`);
    }
    map.set(n.type, { path: nsPath, index: i });
  });
  return (type) => {
    const e = map.get(type);
    return { has: e !== undefined, isNew: e !== undefined && e.path === undefined, path: e?.path };
  };
}

function checkUserns(linux: Record<string, any>, ns: (t: string) => NsInfo, add: Add): void {
  const user = ns('user');
  for (const [key, what] of [
    ['uidMappings', 'uid'],
    ['gidMappings', 'gid'],
  ]) {
    const mappings = linux[key];
    const given = Array.isArray(mappings) && mappings.length > 0;
    if (given && !user.has) {
      add(ptr('linux', key), `${what} mappings need a new user namespace (add {"type": "user"} to /linux/namespaces)`);
    } else if (given && user.path !== undefined) {
      add(ptr('linux', key), `${what} mappings cannot be used with a user namespace joined by path (${show(user.path)})`);
    } else if (!given && user.isNew) {
      add(ptr('linux', key), `a new user namespace needs ${what} mappings`);
    }
  }
}

function checkHostname(spec: Record<string, any>, ns: (t: string) => NsInfo, add: Add): void {
  for (const key of ['hostname', 'domainname']) {
    // as runc: a uts namespace of the container's own, new or joined (pods share one)
    if (isStr(spec[key]) && spec[key] !== '' && !ns('uts').has) {
      add('/' + key, `setting the ${key} needs a uts namespace (add {"type": "uts"} to /linux/namespaces)`);
    }
  }
}

// Sysctls isolated by the ipc namespace (besides fs.mqueue.*), as runc lists them.
const IPC_SYSCTLS = new Set([
  'kernel.msgmax',
  'kernel.msgmnb',
  'kernel.msgmni',
  'kernel.sem',
  'kernel.shmall',
  'kernel.shmmax',
  'kernel.shmmni',
  'kernel.shm_rmid_forced',
]);

/** Inode identity of the host's network namespace, for joined-by-path netns checks. */
function sameFile(a: string, b: string): boolean {
  try {
    const sa = fs.statSync(a);
    const sb = fs.statSync(b);
    return sa.dev === sb.dev && sa.ino === sb.ino;
  } catch {
    return false;
  }
}

function checkSysctl(linux: Record<string, any>, ns: (t: string) => NsInfo, add: Add): void {
  if (!isObject(linux.sysctl)) return;
  for (const rawKey of Object.keys(linux.sysctl)) {
    // "net/ipv4/ip_forward" is the same sysctl as "net.ipv4.ip_forward".
    const key = rawKey.includes('/') ? rawKey.replace(/\//g, '.') : rawKey;
    const at = ptr('linux', 'sysctl', rawKey);
    const need = (type: string, name: string) => {
      if (!ns(type).has) add(at, `sysctl "${key}" needs a ${name} namespace (it would change the host's)`);
    };
    if (IPC_SYSCTLS.has(key) || key.startsWith('fs.mqueue.')) {
      need('ipc', 'ipc');
    } else if (key.startsWith('net.')) {
      const net = ns('network');
      if (!net.has) need('network', 'network');
      else if (net.path !== undefined && sameFile(net.path, '/proc/self/ns/net')) {
        add(at, `sysctl "${key}" would change the host's network namespace (${show(net.path)})`);
      }
    } else if (key === 'kernel.hostname' || key === 'kernel.domainname') {
      need('uts', 'uts');
    } else {
      add(at, `sysctl "${key}" is not in a separate kernel namespace`);
    }
  }
}

function checkLinuxPaths(linux: Record<string, any>, add: Add): void {
  arr(linux.devices).forEach((d, i) => {
    if (!isObject(d)) return;
    if (isStr(d.path) && !path.posix.normalize(d.path).startsWith('/dev/')) {
      add(ptr('linux', 'devices', i, 'path'), `device path ${show(d.path)} must be an absolute path under /dev`);
    }
    if ((d.type === 'c' || d.type === 'b' || d.type === 'u') && (d.major === undefined || d.minor === undefined)) {
      add(ptr('linux', 'devices', i), `a device of type "${d.type}" needs major and minor`);
    }
  });
  for (const key of ['maskedPaths', 'readonlyPaths']) {
    arr(linux[key]).forEach((p, i) => {
      if (isStr(p) && !isAbs(p)) add(ptr('linux', key, i), `path ${show(p)} must be absolute`);
    });
  }
}

function checkCgroupsPath(linux: Record<string, any>, add: Add): void {
  const cg = linux.cgroupsPath;
  if (!isStr(cg) || cg === '') return;
  const at = '/linux/cgroupsPath';
  if (cg.includes('\0')) {
    add(at, 'must not contain a NUL byte');
    return;
  }
  if (!isAbs(cg) && cg.includes(':')) {
    // systemd form "slice:prefix:name"; whether systemd is used is decided later.
    const parts = cg.split(':');
    if (parts.length !== 3) {
      add(at, `${show(cg)} must be an absolute path, a relative path, or "slice:prefix:name"`);
      return;
    }
    const [slice, , name] = parts;
    if (name === '') add(at, `${show(cg)}: the name in "slice:prefix:name" must not be empty`);
    if (slice !== '' && (!slice.endsWith('.slice') || slice.includes('/'))) {
      add(at, `${show(cg)}: slice ${show(slice)} must be a systemd slice name ending in ".slice"`);
    }
    return;
  }
  if (cg.split('/').includes('..')) add(at, `${show(cg)} must not contain ".."`);
}

function checkSeccomp(linux: Record<string, any>, add: Add): void {
  const sc = linux.seccomp;
  if (!isObject(sc)) return;
  const notify = 'SCMP_ACT_NOTIFY';
  if (sc.defaultAction === notify) add('/linux/seccomp/defaultAction', `${notify} cannot be the default action`);
  const usesNotify = arr(sc.syscalls).some((s) => isObject(s) && s.action === notify);
  if (usesNotify && !(isStr(sc.listenerPath) && sc.listenerPath !== '')) {
    add('/linux/seccomp/listenerPath', `is required when a syscall uses ${notify}`);
  }
  if (isStr(sc.listenerPath) && sc.listenerPath !== '' && !isAbs(sc.listenerPath)) {
    add('/linux/seccomp/listenerPath', `${show(sc.listenerPath)} must be absolute`);
  }
}
