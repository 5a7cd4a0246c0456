import * as fs from 'fs';
import * as path from 'path';
import type { CommandModule } from 'yargs';
import { TsrunError } from '../../errors';
import type { GlobalArgs } from '../context';

interface Args extends GlobalArgs {
  bundle: string;
  image?: string;
  rootless?: string;
}

export const command: CommandModule<GlobalArgs, Args> = {
  command: 'spec',
  describe: 'write a default config.json into the bundle directory',
  builder: (y) =>
    y
      .option('bundle', { alias: 'b', type: 'string', default: '.', describe: 'where to write config.json' })
      .option('image', {
        type: 'string',
        describe: 'run this image: tsrun.layers = SOURCE (tar, dir, OCI layout or archive [:tag]); process from its config',
      })
      .example('$0 spec -b ./mybundle', 'then put a root filesystem in ./mybundle/rootfs')
      .example('$0 spec --image busybox.oci.tar -b ./bb && $0 run -b ./bb c1', 'run a saved podman image'),
  handler: async (a) => {
    const { defaultSpec } = await import('../../spec/default');
    const file = path.join(a.bundle, 'config.json');
    if (fs.existsSync(file)) throw new TsrunError(`spec: ${file} exists: remove it first`);
    let spec = defaultSpec();
    if (a.image !== undefined) {
      const { specFromImage } = await import('../../image/imagespec');
      spec = await specFromImage(a.image, a.bundle, spec);
    }
    fs.mkdirSync(a.bundle, { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(spec, null, 2) + '\n');
    fs.renameSync(tmp, file);
  },
};
