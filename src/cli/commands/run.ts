import type { Argv, CommandModule } from 'yargs';
import { contextFrom } from '../context';
import { trailingCommand } from '../argv';
import { exit } from '../exit';
import { createFlags, createOptions, type CreateArgs } from './create';

interface Args extends CreateArgs {
  detach?: boolean;
  command?: string[];
}

export const command: CommandModule<CreateArgs, Args> = {
  command: 'run <container-id> [command..]',
  describe: 'create and start a container; in the foreground, wait and remove it',
  builder: (y) =>
    (createFlags(y) as Argv<CreateArgs>)
      .positional('command', { type: 'string', array: true, describe: 'replaces process.args for this container' })
      .option('detach', { alias: 'd', type: 'boolean', describe: 'return once the process runs' })
      .example('$0 run -b ./bundles/busybox c1', 'run, print its output, exit with its status')
      .example('$0 run -b ./bundles/busybox c1 -- echo hi', 'run another command') as Argv<Args>,
  handler: async (a) => {
    const { run } = await import('../../runtime/run');
    const cmd = trailingCommand(a);
    exit.code = await run(contextFrom(a), {
      ...createOptions(a),
      detach: a.detach,
      override: cmd
        ? (spec) => {
            spec.process = { ...(spec.process ?? { user: { uid: 0, gid: 0 }, cwd: '/' }), args: cmd };
          }
        : undefined,
    });
  },
};
