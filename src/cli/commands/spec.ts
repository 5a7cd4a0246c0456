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
      .example('$0 spec --rootless -b ./mybundle', 'as runc spec --rootless: a user namespace mapping you to root, no cgroup limits')
      .example('$0 spec --image busybox.oci.tar -b ./bb && $0 run -b ./bb c1', 'run a saved podman image'),
  handler: async (a) => {
    const { defaultSpec } = await import('../../spec/default');
    const file = path.join(a.bundle, 'config.json');
    if (fs.existsSync(file)) throw new TsrunError(`spec: ${file} exists: remove it first`);
    // `spec --rootless` (runc's flag; here the global --rootless, given without a value or "true")
    const rootless = a.rootless === '' || a.rootless === 'true';
    let spec = defaultSpec(rootless ? { rootless: { uid: process.geteuid?.() ?? 0, gid: process.getegid?.() ?? 0 } } : {});
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
