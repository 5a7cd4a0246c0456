import type { CommandModule } from 'yargs';
import { contextFrom, type GlobalArgs } from '../context';
import { timeAgo } from '../humantime';
import { EXIT_CODE_NOTE } from '../terminal';

interface Args extends GlobalArgs {
  format: string;
  quiet?: boolean;
  'no-trunc'?: boolean;
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('   ')).join('\n') + '\n';
}

const trunc = (s: string, n: number, on: boolean) => (on && s.length > n ? `${s.slice(0, n - 3)}...` : s);
/** Paths keep their end, the part that tells them apart (".../busybox/rootfs"). */
const truncStart = (s: string, n: number, on: boolean) => (on && s.length > n ? `...${s.slice(s.length - (n - 3))}` : s);

export const command: CommandModule<GlobalArgs, Args> = {
  command: 'list',
  aliases: ['ls'],
  describe: 'list containers',
  builder: (y) =>
    y
      .option('format', {
        alias: 'f',
        type: 'string',
        choices: ['table', 'json', 'runc'],
        default: 'table',
        describe: 'table: ID STATUS PID COMMAND IMAGE CREATED; json: runc\'s fields + command, args, image; runc: runc\'s table',
      })
      .option('quiet', { alias: 'q', type: 'boolean', describe: 'print only the ids' })
      .option('no-trunc', { type: 'boolean', describe: 'do not shorten long commands and images' })
      .example('$0 list', 'the table, for people')
      .example('$0 list --format json', 'runc\'s JSON (id, pid, status, bundle, rootfs, created, owner, annotations) plus command, args, image')
      .example('$0 list --format runc', 'runc\'s table (ID PID STATUS BUNDLE CREATED OWNER), for scripts written for runc')
      .epilogue(
        'The ID column comes first in every table, as in runc, so "tsrun list | awk \'NR>1{print $1}\'" and -q keep working.\n\n' +
          EXIT_CODE_NOTE,
      ),
  handler: async (a) => {
    const { list } = await import('../../runtime/list');
    const { containers: items, skipped } = list(contextFrom(a));
    // on stderr: the table, the JSON and -q stay containers only
    for (const e of skipped) process.stderr.write(`tsrun: warning: not listed: ${e.message}\n`);
    const command = (c: (typeof items)[number]) => (c.args ?? []).join(' ');
    const image = (c: (typeof items)[number]) => c.image || c.rootfs;
    if (a.quiet) {
      process.stdout.write(items.map((c) => c.id + '\n').join(''));
    } else if (a.format === 'json') {
      process.stdout.write(JSON.stringify(items.map((c) => ({ ...c, command: command(c), image: image(c) }))) + '\n');
    } else if (a.format === 'runc') {
      const rows = [['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER']];
      for (const c of items) rows.push([c.id, String(c.pid), c.status, c.bundle, c.created, c.owner || 'root']);
      process.stdout.write(table(rows));
    } else {
      const cut = !a['no-trunc'];
      const now = new Date();
      const rows = [['ID', 'STATUS', 'PID', 'COMMAND', 'IMAGE', 'CREATED']];
      for (const c of items) {
        rows.push([c.id, c.status, String(c.pid), `"${trunc(command(c), 30, cut)}"`, truncStart(image(c), 40, cut), timeAgo(c.created, now)]);
      }
      process.stdout.write(table(rows));
    }
  },
};
