import type { CommandModule } from 'yargs';
import { contextFrom, type GlobalArgs } from '../context';

interface Args extends GlobalArgs {
  format: string;
  quiet?: boolean;
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('   ')).join('\n') + '\n';
}

export const command: CommandModule<GlobalArgs, Args> = {
  command: 'list',
  aliases: ['ls'],
  describe: 'list containers',
  builder: (y) =>
    y
      .option('format', { alias: 'f', type: 'string', choices: ['table', 'json'], default: 'table' })
      .option('quiet', { alias: 'q', type: 'boolean', describe: 'print only the ids' })
      .example('$0 list --format json', ''),
  handler: async (a) => {
    const { list } = await import('../../runtime/list');
    const items = list(contextFrom(a));
    if (a.quiet) {
      process.stdout.write(items.map((c) => c.id + '\n').join(''));
    } else if (a.format === 'json') {
      process.stdout.write(JSON.stringify(items) + '\n');
    } else {
      const rows = [['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER']];
      for (const c of items) rows.push([c.id, String(c.pid), c.status, c.bundle, c.created, c.owner || 'root']);
      process.stdout.write(table(rows));
    }
  },
};
