// The fast path for the verbs a container engine calls for every container:
// `create`, `start`, `state`, `kill`, `delete` (and `run`), and for every exec
// (CRI ExecSync, `podman exec`, health checks: `exec --process F -d --pid-file P ID`).  Building the
// yargs parser (and its help cache) costs 25-40 ms per call; these verbs have
// a handful of flags, so a command line of the plain, common shapes is parsed
// here into the arguments yargs would produce and handed to the same handler.
// Anything else (help, version, an unknown or repeated flag, a missing or
// extra argument, `--`) returns undefined and goes to yargs, so its messages
// and exit codes stay what they are.  The flags' spellings, types and
// defaults come from src/cli/options.ts, which the yargs builders use too;
// test/unit/cli-fast.test.ts checks that both parsers agree.
import type { GlobalArgs } from './context';
import { CREATE_OPTIONS, defaults, EXEC_OPTIONS, GLOBAL_OPTIONS, RUN_OPTIONS, spellingMap } from './options';

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

// spellings, types and defaults come from src/cli/options.ts; the lists
// below only say which flags the plain shapes may carry
const CREATE_FAST = ['bundle', 'pid-file', 'console-socket', 'preserve-fds', 'no-pivot', 'no-new-keyring'];
const CREATE_STRINGS = spellingMap(CREATE_OPTIONS, 'string', CREATE_FAST);
const CREATE_NUMBERS = spellingMap(CREATE_OPTIONS, 'number', CREATE_FAST);
const CREATE_DEFAULTS = defaults(CREATE_OPTIONS, CREATE_FAST);
const CREATE_BOOLEANS = spellingMap(CREATE_OPTIONS, 'boolean', CREATE_FAST);
// exec's flags that take one plain value (not the repeatable -e/--cap/-g)
const EXEC_FAST = ['process', 'cwd', 'user', 'console-socket', 'pid-file', 'preserve-fds', 'detach', 'tty', 'interactive', 'no-new-privs', 'ignore-paused'];
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
    booleans: { ...CREATE_BOOLEANS, ...spellingMap(RUN_OPTIONS, 'boolean', ['detach']) },
    defaults: CREATE_DEFAULTS,
  },
  state: { required: ['container-id'], optional: [] },
  start: { required: ['container-id'], optional: [] },
  kill: { required: ['container-id'], optional: ['signal'], booleans: { '--all': 'all', '-a': 'all' } },
  delete: DELETE,
  rm: DELETE,
  exec: {
    required: ['container-id'],
    optional: [],
    rest: 'command',
    strings: spellingMap(EXEC_OPTIONS, 'string', EXEC_FAST),
    numbers: spellingMap(EXEC_OPTIONS, 'number', EXEC_FAST),
    booleans: spellingMap(EXEC_OPTIONS, 'boolean', EXEC_FAST),
    defaults: defaults(EXEC_OPTIONS, EXEC_FAST),
  },
};

const GLOBAL_STRINGS = spellingMap(GLOBAL_OPTIONS, 'string');
const GLOBAL_BOOLEANS = spellingMap(GLOBAL_OPTIONS, 'boolean');
const GLOBAL_DEFAULTS = defaults(GLOBAL_OPTIONS);

export type FastVerb = 'create' | 'run' | 'state' | 'start' | 'kill' | 'delete' | 'exec';

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
        const choices = (GLOBAL_OPTIONS as Record<string, { choices?: readonly string[] }>)[key]?.choices;
        if (str !== undefined && choices && !choices.includes(value)) return undefined;
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
