import type { CommandModule } from 'yargs';
import { UsageError } from '../../errors';
import { contextFrom, type GlobalArgs } from '../context';

interface Args extends GlobalArgs {
  'container-id': string;
  out?: string;
  diff?: boolean;
  oci?: string;
}

export const command: CommandModule<GlobalArgs, Args> = {
  command: 'commit <container-id> [out]',
  describe: 'save a container (running or stopped) as an image',
  builder: (y) =>
    y
      .positional('container-id', { type: 'string', demandOption: true })
      .positional('out', { type: 'string', describe: 'output tar (gzip when it ends .gz/.tgz)' })
      .option('diff', { type: 'boolean', describe: 'only the changes, as an OCI layer with whiteouts' })
      .option('oci', {
        type: 'string',
        describe: 'write an OCI image layout DIR[:TAG], or an oci-archive FILE.tar[:TAG] (base layers + changes + config); an existing one keeps its other tags',
      })
      .example('$0 commit c1 c1.tar.gz', 'the whole filesystem, flattened')
      .example('$0 commit --diff c1 changes.tar', 'only what c1 changed')
      .example('$0 commit --oci ./img:v1 c1', 'an OCI layout: tsrun and "podman pull oci:$PWD/img:v1" accept it')
      .example('$0 commit --oci img.tar:v1 c1', 'an oci-archive: "podman load -i img.tar" accepts it'),
  handler: async (a) => {
    if (a.oci !== undefined && (a.out || a.diff)) throw new UsageError('commit: --oci takes the output dir itself; give no OUT and no --diff');
    if (a.oci === undefined && !a.out) throw new UsageError('commit: OUT (or --oci DIR[:TAG]) is required');
    const { commit } = await import('../../runtime/commit');
    await commit(contextFrom(a), a['container-id'], a.oci !== undefined ? { mode: 'oci', target: a.oci } : { mode: a.diff ? 'diff' : 'flat', target: a.out! });
  },
};
