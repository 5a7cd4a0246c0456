// The fast path for the verbs a container engine calls on every container:
// `state`, `start`, `kill`, `delete`.  Building the yargs parser (and its
// help cache) costs ~25 ms per call; these verbs have a handful of flags, so
// a command line of the plain, common shapes is parsed here and handed to the
// same handler yargs would call.  Anything else (help, version, an unknown or
// repeated flag, a missing or extra argument, `--`) returns undefined and
// goes to yargs, so its messages and exit codes stay what they are.
import type { GlobalArgs } from './context';

interface VerbShape {
  /** positionals: required, then optional */
  required: string[];
  optional: string[];
  /** boolean flags of this verb: spelling -> key */
  booleans: Record<string, string>;
}

const VERBS: Record<string, VerbShape> = {
  state: { required: ['container-id'], optional: [], booleans: {} },
  start: { required: ['container-id'], optional: [], booleans: {} },
  kill: { required: ['container-id'], optional: ['signal'], booleans: { '--all': 'all', '-a': 'all' } },
  delete: { required: ['container-id'], optional: [], booleans: { '--force': 'force', '-f': 'force' } },
  rm: { required: ['container-id'], optional: [], booleans: { '--force': 'force', '-f': 'force' } },
};

const GLOBAL_STRINGS: Record<string, string> = {
  '--root': 'root',
  '--data-dir': 'data-dir',
  '--log': 'log',
  '--log-format': 'log-format',
  '--rootless': 'rootless',
};
const GLOBAL_BOOLEANS: Record<string, string> = { '--debug': 'debug', '--systemd-cgroup': 'systemd-cgroup' };

export interface FastCall {
  verb: 'state' | 'start' | 'kill' | 'delete';
  args: GlobalArgs & Record<string, unknown>;
}

/** The parsed call when argv is one of the plain shapes; undefined to let yargs parse it. */
export function parseFast(argv: string[]): FastCall | undefined {
  const args: Record<string, unknown> = { root: '/run/tsrun', 'data-dir': '/var/lib/tsrun', 'log-format': 'text' };
  const seen = new Set<string>();
  const positionals: string[] = [];
  let verb: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith('-')) {
      const eq = a.indexOf('=');
      const name = eq > 0 ? a.slice(0, eq) : a;
      let key = GLOBAL_STRINGS[name];
      if (key) {
        let value: string | undefined;
        if (eq > 0) value = a.slice(eq + 1);
        else if (i + 1 < argv.length && !argv[i + 1].startsWith('-')) value = argv[++i];
        else return undefined;
        if (seen.has(key)) return undefined;
        seen.add(key);
        if (key === 'log-format' && value !== 'text' && value !== 'json') return undefined;
        args[key] = value;
        continue;
      }
      if (eq > 0) return undefined;
      key = GLOBAL_BOOLEANS[name] ?? (verb ? VERBS[verb].booleans[name] : undefined);
      if (!key || seen.has(key)) return undefined;
      seen.add(key);
      args[key] = true;
      continue;
    }
    if (verb === undefined) {
      if (!Object.prototype.hasOwnProperty.call(VERBS, a)) return undefined;
      verb = a;
      continue;
    }
    positionals.push(a);
  }
  if (!verb) return undefined;
  const shape = VERBS[verb];
  if (positionals.length < shape.required.length || positionals.length > shape.required.length + shape.optional.length) return undefined;
  [...shape.required, ...shape.optional].forEach((name, i) => {
    if (i < positionals.length) args[name] = positionals[i];
  });
  args._ = [verb];
  return { verb: verb === 'rm' ? 'delete' : (verb as FastCall['verb']), args: args as FastCall['args'] };
}
