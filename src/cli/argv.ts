// `tsrun run [flags] ID CMD...` and `tsrun exec [flags] ID CMD...`: as in
// runc, flags end at the id, and what follows is the command with its own
// flags (`sh -c ...`).  This inserts "--" after the id so yargs leaves them
// alone.
import { CREATE_OPTIONS, EXEC_OPTIONS, GLOBAL_OPTIONS, RUN_OPTIONS, spellingMap, spellings, valueFlags } from './options';

const GLOBAL_VALUE_FLAGS = valueFlags(GLOBAL_OPTIONS);

/** Flags that take a value, per verb (the rest are booleans): derived from src/cli/options.ts. */
export const VALUE_FLAGS: Record<string, readonly string[]> = {
  run: valueFlags({ ...CREATE_OPTIONS, ...RUN_OPTIONS }),
  create: valueFlags(CREATE_OPTIONS),
  exec: valueFlags(EXEC_OPTIONS),
};

/** Spelling -> long name of the options that take a value, per verb (as VALUE_FLAGS). */
const VALUE_NAMES: Record<string, Record<string, string>> = Object.fromEntries(
  Object.entries({ run: { ...CREATE_OPTIONS, ...RUN_OPTIONS }, create: CREATE_OPTIONS, exec: EXEC_OPTIONS }).map(([verb, table]) => [
    verb,
    { ...spellingMap(table, 'string'), ...spellingMap(table, 'number') },
  ]),
);

/**
 * "-m -5m": yargs takes a value that starts with "-" for flags ("unknown
 * argument: 5"), so a negative-looking value of a flag that takes one is
 * joined to it ("--memory=-5m"), and the flag's own check says what is wrong
 * with it.  Only before "--" (the command after it is left alone).
 */
export function joinNegativeValues(argv: string[]): string[] {
  const out: string[] = [];
  let names: Record<string, string> = {};
  let verb: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') return [...out, ...argv.slice(i)];
    const name = Object.prototype.hasOwnProperty.call(names, a) ? names[a] : undefined;
    if (name !== undefined && /^-[\d.]/.test(argv[i + 1] ?? '')) {
      out.push(`--${name}=${argv[++i]}`);
      continue;
    }
    out.push(a);
    // a flag's value is not the verb, whatever it looks like
    if ((name !== undefined || GLOBAL_VALUE_FLAGS.includes(a)) && i + 1 < argv.length) out.push(argv[++i]);
    else if (!a.startsWith('-') && verb === undefined) {
      verb = a;
      names = VALUE_NAMES[verb] ?? {};
    }
  }
  return out;
}

/** The first argument that is neither a flag nor a global flag's value: the verb. */
export function firstPositional(argv: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('-')) return a;
    if (!a.includes('=') && GLOBAL_VALUE_FLAGS.includes(a)) i++;
  }
  return undefined;
}

/**
 * run and create name the container in one of three ways (flags always come
 * first, as in runc):
 *   tsrun run [flags] ID [COMMAND...]        runc's form: the first word is the id
 *   tsrun run [flags] --name ID [COMMAND...] with --name every word is the command
 *   tsrun run [flags] [-- COMMAND...]        no id: tsrun makes one up
 */
export function splitCommand(argv: string[]): string[] {
  const valueFlags = new Set(GLOBAL_VALUE_FLAGS);
  let i = 0;
  let verb: string | undefined;
  let named = false;
  for (; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') return argv;
    if (a.startsWith('-')) {
      if (verb && (a === '--name' || a.startsWith('--name='))) named = true;
      if (!a.includes('=') && valueFlags.has(a)) i++;
      continue;
    }
    // with --name, the first word already is the command
    if (named) return [...argv.slice(0, i), '--', ...argv.slice(i)];
    if (verb === undefined) {
      verb = a;
      if (!(verb in VALUE_FLAGS)) return argv;
      for (const f of VALUE_FLAGS[verb]) valueFlags.add(f);
      continue;
    }
    // the container id: everything after it is the command (run: flags included,
    // runc's rule, as src/cli/fast.ts has it).  For create, which had no command
    // before, a "-x" right after the id is a misplaced flag: yargs takes or refuses it.
    if (i + 1 < argv.length && !(verb === 'create' && argv[i + 1].startsWith('-'))) {
      return [...argv.slice(0, i + 1), '--', ...argv.slice(i + 1)];
    }
    return argv;
  }
  return argv;
}

/** The command after the id: yargs leaves what follows "--" in argv._ (after the verb). */
export function trailingCommand(a: { _: (string | number)[]; command?: (string | number)[] }): string[] | undefined {
  const cmd = [...(a.command ?? []), ...a._.slice(1)].map(String);
  return cmd.length ? cmd : undefined;
}

/**
 * "--resources -" and "--process -" (stdin, as containerd's shim passes them):
 * yargs takes a lone "-" for a positional, so it is joined to its flag
 * ("--resources=-").  Only before "--": the command after it is left alone.
 */
export function joinStdinValues(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') return [...out, ...argv.slice(i)];
    if (/^--?[a-zA-Z][\w-]*$/.test(a) && argv[i + 1] === '-') {
      out.push(`${a}=-`);
      i++;
      continue;
    }
    out.push(a);
  }
  return out;
}

/**
 * A bare "--rootless" (at the end, or before another flag) is "--rootless=true":
 * runc's `spec --rootless` is a switch, and yargs would read it as "".  Only
 * before "--".
 */
export function bareRootless(argv: string[]): string[] {
  const end = argv.indexOf('--');
  return argv.map((a, i) =>
    a === '--rootless' && (end < 0 || i < end) && (i + 1 === argv.length || argv[i + 1].startsWith('-')) ? '--rootless=true' : a,
  );
}

/** argv as the yargs parser takes it: run's and exec's command split off, flag values joined where yargs would misread them. */
export function preparedArgv(argv: string[]): string[] {
  return joinStdinValues(joinNegativeValues(bareRootless(splitCommand(argv))));
}

/**
 * How many of the command's first words are run's own flags (with their
 * values): `run c8 -b B echo hi` took "-b B" for the command (runc's rule:
 * flags end at the id).  0 when the command starts with anything else.
 */
export function leadingRunFlags(cmd: string[]): number {
  const table = { ...GLOBAL_OPTIONS, ...CREATE_OPTIONS, ...RUN_OPTIONS } as Record<string, { type: string; alias?: string }>;
  const all = new Map(Object.entries(table).flatMap(([name, o]) => spellings(name, o).map((sp) => [sp, o.type] as const)));
  const shortBooleans = new Set([...all].filter(([sp, t]) => t === 'boolean' && /^-\w$/.test(sp)).map(([sp]) => sp[1]));
  let i = 0;
  while (i < cmd.length) {
    const w = cmd[i];
    const type = all.get(w.includes('=') ? w.slice(0, w.indexOf('=')) : w);
    if (type !== undefined) i += type === 'boolean' || w.includes('=') ? 1 : 2;
    else if (/^-\w{2,}$/.test(w) && [...w.slice(1)].every((c) => shortBooleans.has(c))) i++; // -ti
    else break;
  }
  return Math.min(i, cmd.length);
}
