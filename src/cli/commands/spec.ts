import * as fs from 'fs';
import * as path from 'path';
import type { CommandModule } from 'yargs';
import { TsrunError } from '../../errors';
import type { GlobalArgs } from '../context';

interface Args extends GlobalArgs {
  bundle: string;
  rootless?: string;
}

export const command: CommandModule<GlobalArgs, Args> = {
  command: 'spec',
  describe: 'write a default config.json into the bundle directory',
  builder: (y) =>
    y
      .option('bundle', { alias: 'b', type: 'string', default: '.', describe: 'where to write config.json' })
      .example('$0 spec -b ./mybundle', 'then put a root filesystem in ./mybundle/rootfs'),
  handler: async (a) => {
    const { defaultSpec } = await import('../../spec/default');
    const file = path.join(a.bundle, 'config.json');
    if (fs.existsSync(file)) throw new TsrunError(`spec: ${file} exists: remove it first`);
    fs.mkdirSync(a.bundle, { recursive: true });
    fs.writeFileSync(file, JSON.stringify(defaultSpec(), null, 2) + '\n');
  },
};
