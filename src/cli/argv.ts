// `tsrun run [flags] ID CMD...` and `tsrun exec [flags] ID CMD...`: as in
// runc, flags end at the id, and what follows is the command with its own
// flags (`sh -c ...`).  This inserts "--" after the id so yargs leaves them
// alone.
import { CREATE_OPTIONS, EXEC_OPTIONS, GLOBAL_OPTIONS, RUN_OPTIONS, valueFlags } from './options';

const GLOBAL_VALUE_FLAGS = valueFlags(GLOBAL_OPTIONS);

/** Flags that take a value, per verb (the rest are booleans): derived from src/cli/options.ts. */
export const VALUE_FLAGS: Record<string, readonly string[]> = {
  run: valueFlags({ ...CREATE_OPTIONS, ...RUN_OPTIONS }),
  create: valueFlags(CREATE_OPTIONS),
  exec: valueFlags(EXEC_OPTIONS),
};

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
