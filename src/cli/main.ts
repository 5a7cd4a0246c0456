// tsrun's command line: runc's global flags and verbs.  Each verb is one file
// in ./commands; this file wires them and owns the one error handler.
import type { CommandModule } from 'yargs';
import type YargsFactory from 'yargs/yargs';
import { UsageError } from '../errors';
import { commands } from './commands';
import { exit } from './exit';
import { firstPositional, preparedArgv } from './argv';
import { parseFast } from './fast';
import { GLOBAL_OPTIONS } from './options';
import { reportError } from './report';

export { reportError };

export const VERSION = '0.1.0';
export const SPEC_VERSION = '1.2.0';

/** yargs' messages, made to say what to do next. */
export function usageMessage(msg: string, argv: string[]): string {
  msg = msg.replace(/:\n\s*/g, ': ').replace(/\n\s*/g, '; ');
  const names = new Set(commands.flatMap((c) => [String(c.command).split(' ')[0], ...[c.aliases ?? []].flat().map(String)]));
  const verb = argv.find((a) => names.has(a));
  const help = verb ? `(see "tsrun ${verb} --help")` : '(see "tsrun --help")';
  const unknown = /^Unknown arguments?: (.*)$/.exec(msg);
  if (unknown) {
    const first = unknown[1].split(', ')[0];
    if (!verb && firstPositional(argv) === first) return `unknown command "${first}" (see "tsrun --help")`;
    return `unknown argument${unknown[1].includes(', ') ? 's' : ''}: ${unknown[1]} ${help}`;
  }
  if (/^Not enough non-option arguments/.test(msg)) {
    const c = commands.find((x) => String(x.command).split(' ')[0] === verb);
    const missing = /<[^>]+>/.exec(String(c?.command ?? ''))?.[0] ?? 'argument';
    return `${verb ?? 'tsrun'}: missing ${missing} ${help}`;
  }
  return `${msg.charAt(0).toLowerCase()}${msg.slice(1)} ${help}`;
}

/** The yargs parser of the whole CLI over argv (already through preparedArgv). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function buildParser(argv: string[], cmds: CommandModule<any, any>[] = commands) {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const yargs = require('yargs/yargs') as typeof YargsFactory;
  const parser = yargs(argv)
    .scriptName('tsrun')
    // runc's flags --no-pivot, --no-new-keyring, --no-new-privs are flags of
    // their own, not negations of --pivot and --new-keyring
    .parserConfiguration({ 'boolean-negation': false })
    .usage('tsrun [global options] <command> [options]\n\nAn OCI container runtime.')
    .options(GLOBAL_OPTIONS)
    .version(false)
    // not global: -v is run's --volume
    .option('version', { alias: 'v', type: 'boolean', global: false, describe: 'print the version' })
    .strict()
    .recommendCommands()
    .help('help')
    .alias('help', 'h')
    .wrap(Math.min(100, process.stdout.columns || 100))
    .fail((msg, err) => {
      if (err) throw err;
      throw new UsageError(usageMessage(msg, argv));
    });
  for (const c of cmds) parser.command(c);
  return parser;
}

export async function main(argv: string[]): Promise<number> {
  // the verbs of a container's life in their plain shapes skip yargs (25-40 ms)
  const fast = parseFast(argv);
  if (fast) {
    const c = commands.find((x) => String(x.command).split(' ')[0] === fast.verb)!;
    await c.handler(fast.args as never);
    return exit.code;
  }
  argv = preparedArgv(argv);
  const parser = buildParser(argv);
  parser.middleware((a) => {
    if (a.version && a._.length === 0) {
      process.stdout.write(`tsrun version ${VERSION}\nspec: ${SPEC_VERSION}\nnode: ${process.version}\n`);
      process.exit(0);
    }
  }, true);
  await parser.parseAsync(argv.length ? argv : ['--help']);
  return exit.code;
}

/** Runs the command line of this process (dist/tsrun.js calls this). */
export function cli(): void {
  const argv = process.argv.slice(2);
  main(argv).then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      process.exitCode = reportError(err, argv);
    },
  );
}
