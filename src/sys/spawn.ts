// posix_spawn(3) and waitpid(2) through koffi, for starting the shim on the
// hot path: child_process costs ~2.3 ms to load (with net and stream) and
// ~2.5 ms to fork the whole Node process, posix_spawn ~0.4 ms (glibc uses
// clone(CLONE_VM | CLONE_VFORK): nothing is copied).  The child gets what
// libuv would give it: signals 1-31 at their default and none blocked (glibc
// leaves its internal 32 and 33 ignored: the shim resets every signal).
import { SystemError } from '../errors';
import { fn } from './libc';

const POSIX_SPAWN_SETSIGDEF = 0x04;
const POSIX_SPAWN_SETSIGMASK = 0x08;
// glibc x86_64/aarch64 sizes, with room to spare (the functions only write inside them)
const ATTR_SIZE = 512;
const FILE_ACTIONS_SIZE = 256;
const SIGSET_SIZE = 128;

const strerror = (e: number): string => (fn('const char *strerror(int errnum)')(e) as unknown as string) || `errno ${e}`;

/** posix_spawn functions return the error number itself (0: success). */
function ok(ret: number, call: string, path: string): void {
  if (ret !== 0) throw new SystemError(`${call} "${path}": ${strerror(ret)}`, ret);
}

/**
 * Starts path with argv and env (no PATH search), each [from, to] of dups
 * dup2'ed (to loses FD_CLOEXEC, also when from == to; from may be
 * close-on-exec); every other fd follows its own FD_CLOEXEC (Node sets it
 * on 0-2: pass [0, 0] etc. to keep them).  Returns the pid.
 */
export function posixSpawn(path: string, argv: string[], env: string[], dups: Array<[number, number]>): number {
  const fa = Buffer.alloc(FILE_ACTIONS_SIZE);
  const attr = Buffer.alloc(ATTR_SIZE);
  const all = Buffer.alloc(SIGSET_SIZE);
  const none = Buffer.alloc(SIGSET_SIZE);
  ok(fn('int posix_spawn_file_actions_init(void *fa)')(fa), 'posix_spawn_file_actions_init', path);
  ok(fn('int posix_spawnattr_init(void *attr)')(attr), 'posix_spawnattr_init', path);
  try {
    for (const [from, to] of dups) {
      ok(fn('int posix_spawn_file_actions_adddup2(void *fa, int fd, int newfd)')(fa, from, to), 'posix_spawn_file_actions_adddup2', path);
    }
    fn('int sigfillset(void *set)')(all);
    fn('int sigemptyset(void *set)')(none);
    ok(fn('int posix_spawnattr_setsigdefault(void *attr, void *set)')(attr, all), 'posix_spawnattr_setsigdefault', path);
    ok(fn('int posix_spawnattr_setsigmask(void *attr, void *set)')(attr, none), 'posix_spawnattr_setsigmask', path);
    ok(fn('int posix_spawnattr_setflags(void *attr, short flags)')(attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK), 'posix_spawnattr_setflags', path);
    const pid = new Int32Array(1);
    const spawn = fn('int posix_spawn(_Out_ int *pid, const char *path, void *fa, void *attr, const char **argv, const char **envp)');
    ok(spawn(pid, path, fa, attr, [...argv, null], [...env, null]), 'posix_spawn', path);
    return pid[0];
  } finally {
    fn('int posix_spawn_file_actions_destroy(void *fa)')(fa);
    fn('int posix_spawnattr_destroy(void *attr)')(attr);
  }
}

/** glibc >= 2.29: a dup2 action onto the same fd clears FD_CLOEXEC (what posixSpawn's callers rely on for 0-2). */
export function spawnKeepsSameFd(): boolean {
  try {
    const v = fn('const char *gnu_get_libc_version()')() as unknown as string;
    const [major, minor] = v.split('.').map(Number);
    return major > 2 || (major === 2 && minor >= 29);
  } catch {
    return false; // not glibc
  }
}

/** The exit code of a wait status as Node reports it: the status, or 128 + the signal. */
export function exitCode(status: number): number {
  const sig = status & 0x7f;
  return sig === 0 ? (status >> 8) & 0xff : 128 + sig;
}

/**
 * Waits for pid (a child of ours) in a koffi worker thread, so that the event
 * loop (signal forwarding, a terminal relay) runs meanwhile.  Resolves with
 * its exit code.
 */
export function waitExit(pid: number): Promise<number> {
  const waitpid = fn('int waitpid(int pid, _Inout_ int *status, int options)') as unknown as {
    async: (pid: number, status: Int32Array, options: number, cb: (err: unknown, ret: number) => void) => void;
  };
  const status = new Int32Array(1);
  return new Promise((resolve, reject) => {
    let tries = 0;
    const again = (): void =>
      waitpid.async(pid, status, 0, (err, ret) => {
        if (err) return reject(err);
        if (ret === pid) return resolve(exitCode(status[0]));
        // -1: EINTR (errno is the worker thread's, not readable here): again, a few times
        if (++tries < 100) return again();
        reject(new SystemError(`waitpid ${pid}: failed`));
      });
    again();
  });
}
