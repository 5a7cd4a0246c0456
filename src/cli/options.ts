// The flags of the CLI, declared once as data: the yargs builders take them
// (`.options(...)`), argv.ts derives from them which flags take a value (to
// find where run's and exec's command begins), and the fast path
// (src/cli/fast.ts) derives its spellings and types from them.  Plain data:
// importing this costs nothing on the hot path (yargs is only a type here).
import type { Options } from 'yargs';
import { defaultDataDir, defaultRoot } from '../runtime/paths';

/** run/create flags that change config.json for one container (applied in src/cli/overrides.ts). */
export const OVERRIDE_OPTIONS = {
  env: { alias: 'e', type: 'string', array: true, nargs: 1, describe: 'set KEY=VALUE in the environment (KEY alone: its value here)' },
  volume: { alias: 'v', type: 'string', array: true, nargs: 1, describe: 'bind HOST:CONTAINER[:ro] (a relative HOST is from the current dir)' },
  memory: { alias: 'm', type: 'string', describe: 'memory limit (64m, 1g; at least 1m; a number without a unit is bytes)' },
  // numbers typed as strings: overrides.ts parses them and quotes a bad one as it was given
  cpus: { type: 'string', describe: 'CPU quota in CPUs (1.5; at most the online CPUs)' },
  'cpu-shares': { type: 'string', describe: 'CPU weight (cgroup v1 shares, 2-262144)' },
  'cpuset-cpus': { type: 'string', describe: 'CPUs allowed (0-2,4; online ones)' },
  'pids-limit': { type: 'string', describe: 'maximum number of processes (-1: no limit)' },
  hostname: { type: 'string', describe: 'hostname (gives the container its own UTS namespace)' },
  cwd: { alias: 'w', type: 'string', describe: 'working directory of the process' },
  user: { alias: 'u', type: 'string', describe: 'uid[:gid] of the process (numeric)' },
  volatile: { type: 'boolean', describe: 'with image layers: a volatile write layer (tsrun.volatile: no sync at exit, lost in a host crash)' },
} as const satisfies Record<string, Options>;

export const GLOBAL_OPTIONS = {
  // the defaults depend on the user (root: /run/tsrun, /var/lib/tsrun; another user: $XDG_RUNTIME_DIR/tsrun, $XDG_DATA_HOME/tsrun)
  root: { type: 'string', describe: 'directory for container state', default: defaultRoot(), global: true },
  'data-dir': { type: 'string', describe: 'directory for image layers and write layers', default: defaultDataDir(), global: true },
  log: { type: 'string', describe: 'log file (default: stderr)', global: true },
  'log-format': { type: 'string', choices: ['text', 'json'], default: 'text', describe: 'log format', global: true },
  debug: { type: 'boolean', describe: 'log debug messages', global: true },
  'systemd-cgroup': { type: 'boolean', describe: 'use the systemd cgroup driver', global: true },
  rootless: {
    type: 'string',
    choices: ['auto', 'true', 'false'],
    describe: 'rootless mode (no cgroups without delegation, a user namespace for every container); default auto: when not run by root',
    global: true,
  },
  criu: { type: 'string', describe: 'ignored: no checkpoint/restore (runc compatibility; containerd passes it)', global: true, hidden: true },
} as const satisfies Record<string, Options>;

/** create's flags; run has them too (and RUN_OPTIONS). */
export const CREATE_OPTIONS = {
  name: { type: 'string', describe: 'the container id (then every word after the flags is the command)' },
  bundle: { alias: 'b', type: 'string', default: '.', describe: 'bundle directory (holds config.json)' },
  'pid-file': { type: 'string', describe: 'write the container process pid to this file' },
  'console-socket': { type: 'string', describe: 'AF_UNIX socket that receives the pty master (process.terminal)' },
  'preserve-fds': { type: 'number', default: 0, describe: 'pass fds 3 .. 3+N-1 to the container' },
  'no-pivot': { type: 'boolean', describe: 'use MS_MOVE + chroot instead of pivot_root' },
  'no-new-keyring': { type: 'boolean', describe: "keep the caller's session keyring" },
  logs: { type: 'boolean', describe: 'stdout and stderr to a log file in the state dir ("tsrun logs ID" prints it)' },
  ...OVERRIDE_OPTIONS,
} as const satisfies Record<string, Options>;

/** The keys that detach from run -ti / exec -ti (docker's and podman's). */
export const DEFAULT_DETACH_KEYS = 'ctrl-p,ctrl-q';
const DETACH_KEYS_OPTION = {
  type: 'string',
  describe: `with -ti: the keys that leave the process running and return to the shell (docker's syntax: ctrl-<a-z@[\\]^_> or one character, comma-separated; default "${DEFAULT_DETACH_KEYS}"; "" turns it off)`,
} as const satisfies Options;

export const RUN_OPTIONS = {
  detach: { alias: 'd', type: 'boolean', describe: 'return once the process runs (made-up ids are printed); at a terminal its output goes to "tsrun logs ID" (as --logs)' },
  tty: { alias: 't', type: 'boolean', describe: 'give the process a terminal; in the foreground tsrun relays it (no --console-socket needed)' },
  interactive: { alias: 'i', type: 'boolean', describe: "with -t: send this terminal's input to the process (without -t stdin is always passed)" },
  'detach-keys': DETACH_KEYS_OPTION,
} as const satisfies Record<string, Options>;

export const EXEC_OPTIONS = {
  process: { alias: 'p', type: 'string', describe: 'an OCI process JSON file ("-" for stdin)' },
  env: { alias: 'e', type: 'string', array: true, nargs: 1, describe: 'KEY=VALUE (repeatable)' },
  cwd: { alias: 'w', type: 'string', describe: 'working directory in the container' },
  user: { alias: 'u', type: 'string', describe: 'uid[:gid]' },
  'additional-gids': { alias: 'g', type: 'number', array: true, nargs: 1 },
  cap: { alias: 'c', type: 'string', array: true, nargs: 1, describe: 'add a capability (repeatable)' },
  'no-new-privs': { type: 'boolean' },
  apparmor: { type: 'string' },
  'process-label': { type: 'string' },
  tty: { alias: 't', type: 'boolean', describe: 'allocate a pseudo-terminal; in the foreground tsrun relays it (else give --console-socket)' },
  interactive: { alias: 'i', type: 'boolean', describe: "with -t: send this terminal's input to the process (without -t stdin is always passed)" },
  'detach-keys': DETACH_KEYS_OPTION,
  'console-socket': { type: 'string' },
  detach: { alias: 'd', type: 'boolean' },
  'pid-file': { type: 'string' },
  'preserve-fds': { type: 'number', default: 0 },
  'ignore-paused': { type: 'boolean' },
  cgroup: { type: 'string', hidden: true, describe: "ignored: the exec joins the container's cgroup" },
} as const satisfies Record<string, Options>;

type OptionTable = Record<string, { type: string; alias?: string }>;

/** The spellings of an option: --name, and -a for its one-letter alias. */
export function spellings(name: string, o: { alias?: string }): string[] {
  return [`--${name}`, ...(o.alias ? [o.alias.length === 1 ? `-${o.alias}` : `--${o.alias}`] : [])];
}

/** Every spelling of the options that take a value (all but booleans). */
export function valueFlags(table: OptionTable): string[] {
  return Object.entries(table).flatMap(([name, o]) => (o.type === 'boolean' ? [] : spellings(name, o)));
}

/** spelling -> option name, for the named options of one type. */
export function spellingMap(table: OptionTable, type: 'string' | 'number' | 'boolean', names = Object.keys(table)): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of names) {
    const o = table[name];
    if (!o) throw new Error(`no option "${name}"`);
    if (o.type === type) for (const s of spellings(name, o)) out[s] = name;
  }
  return out;
}

/** option name -> default, for the options that have one. */
export function defaults(table: OptionTable, names = Object.keys(table)): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of names) {
    const d = (table[name] as { default?: unknown } | undefined)?.default;
    if (d !== undefined) out[name] = d;
  }
  return out;
}
