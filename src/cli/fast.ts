// The fast path for the verbs a container engine calls for every container:
// `create`, `start`, `state`, `kill`, `delete` (and `run`).  Building the
// yargs parser (and its help cache) costs 25-40 ms per call; these verbs have
// a handful of flags, so a command line of the plain, common shapes is parsed
// here into the arguments yargs would produce and handed to the same handler.
// Anything else (help, version, an unknown or repeated flag, a missing or
// extra argument, `--`) returns undefined and goes to yargs, so its messages
// and exit codes stay what they are.  test/unit/cli-fast.test.ts checks that
// both parsers agree: a flag added to one of these verbs in its yargs builder
// must be added here (or the verb's calls with it fall back to yargs).
import type { GlobalArgs } from './context';

interface VerbShape {
  /** positionals: required, then optional */
  required: string[];
  optional: string[];
  /** after the required positionals, the rest of argv is this key (run's command) */
  rest?: string;
  /** flag spelling -> key, by kind */
  strings?: Record<string, string>;
  numbers?: Record<string, string>;
  booleans?: Record<string, string>;
  defaults?: Record<string, unknown>;
}

const CREATE_STRINGS = { '--bundle': 'bundle', '-b': 'bundle', '--pid-file': 'pid-file', '--console-socket': 'console-socket' };
const CREATE_NUMBERS = { '--preserve-fds': 'preserve-fds' };
const CREATE_DEFAULTS = { bundle: '.', 'preserve-fds': 0 };
const CREATE_BOOLEANS = { '--no-pivot': 'no-pivot', '--no-new-keyring': 'no-new-keyring' };
const DELETE: VerbShape = { required: ['container-id'], optional: [], booleans: { '--force': 'force', '-f': 'force' } };

const VERBS: Record<string, VerbShape> = {
  create: {
    required: ['container-id'],
    optional: [],
    strings: CREATE_STRINGS,
    numbers: CREATE_NUMBERS,
    booleans: CREATE_BOOLEANS,
    defaults: CREATE_DEFAULTS,
  },
  run: {
    required: ['container-id'],
    optional: [],
    rest: 'command',
    strings: CREATE_STRINGS,
    numbers: CREATE_NUMBERS,
    booleans: { ...CREATE_BOOLEANS, '--detach': 'detach', '-d': 'detach' },
    defaults: CREATE_DEFAULTS,
  },
  state: { required: ['container-id'], optional: [] },
  start: { required: ['container-id'], optional: [] },
  kill: { required: ['container-id'], optional: ['signal'], booleans: { '--all': 'all', '-a': 'all' } },
  delete: DELETE,
  rm: DELETE,
};

const GLOBAL_STRINGS: Record<string, string> = {
  '--root': 'root',
  '--data-dir': 'data-dir',
  '--log': 'log',
  '--log-format': 'log-format',
  '--rootless': 'rootless',
  '--criu': 'criu',
};
const GLOBAL_BOOLEANS: Record<string, string> = { '--debug': 'debug', '--systemd-cgroup': 'systemd-cgroup' };
const GLOBAL_DEFAULTS = { root: '/run/tsrun', 'data-dir': '/var/lib/tsrun', 'log-format': 'text' };

export type FastVerb = 'create' | 'run' | 'state' | 'start' | 'kill' | 'delete';

export interface FastCall {
  verb: FastVerb;
  args: GlobalArgs & Record<string, unknown>;
}

const own = (o: object | undefined, k: string) => o !== undefined && Object.prototype.hasOwnProperty.call(o, k);

/** The parsed call when argv is one of the plain shapes; undefined to let yargs parse it. */
export function parseFast(argv: string[]): FastCall | undefined {
  let verb: string | undefined;
  let shape: VerbShape | undefined;
  const args: Record<string, unknown> = { ...GLOBAL_DEFAULTS };
  const seen = new Set<string>();
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (shape?.rest && positionals.length === shape.required.length) {
      // runc's rule for run: what follows the id is the command, flags included
      args[shape.rest] = argv.slice(i);
      break;
    }
    if (a.startsWith('-')) {
      const eq = a.indexOf('=');
      const name = eq > 0 ? a.slice(0, eq) : a;
      const str = own(GLOBAL_STRINGS, name) ? GLOBAL_STRINGS[name] : own(shape?.strings, name) ? shape!.strings![name] : undefined;
      const num = own(shape?.numbers, name) ? shape!.numbers![name] : undefined;
      if (str !== undefined || num !== undefined) {
        const key = (str ?? num)!;
        let value: string;
        if (eq > 0) value = a.slice(eq + 1);
        else if (i + 1 < argv.length && !argv[i + 1].startsWith('-')) value = argv[++i];
        else return undefined;
        if (seen.has(key)) return undefined;
        seen.add(key);
        if (key === 'log-format' && value !== 'text' && value !== 'json') return undefined;
        if (num !== undefined) {
          if (!/^[0-9]{1,9}$/.test(value)) return undefined;
          args[key] = Number(value);
        } else {
          args[key] = value;
        }
        continue;
      }
      if (eq > 0) return undefined;
      const key = own(GLOBAL_BOOLEANS, name) ? GLOBAL_BOOLEANS[name] : own(shape?.booleans, name) ? shape!.booleans![name] : undefined;
      if (key === undefined || seen.has(key)) return undefined;
      seen.add(key);
      args[key] = true;
      continue;
    }
    if (verb === undefined) {
      if (!own(VERBS, a)) return undefined;
      verb = a;
      shape = VERBS[a];
      for (const [k, v] of Object.entries(shape.defaults ?? {})) args[k] = v;
      continue;
    }
    positionals.push(a);
  }
  if (!verb || !shape) return undefined;
  if (positionals.length < shape.required.length || positionals.length > shape.required.length + shape.optional.length) return undefined;
  [...shape.required, ...shape.optional].forEach((name, i) => {
    if (i < positionals.length) args[name] = positionals[i];
  });
  args._ = [verb];
  return { verb: verb === 'rm' ? 'delete' : (verb as FastVerb), args: args as FastCall['args'] };
}
