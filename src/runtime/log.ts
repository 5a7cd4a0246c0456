// --log FILE / --log-format text|json / --debug, as runc has them.  With
// json, one object per line: {"level","msg","time"} (time in RFC 3339).
// Errors are printed to stderr by the CLI as well.
import * as fs from 'fs';

export type Level = 'debug' | 'info' | 'warning' | 'error';

export interface Logger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

export function createLogger(o: { file?: string; format?: 'text' | 'json'; debug?: boolean }): Logger {
  const write = (level: Level, msg: string) => {
    if (level === 'debug' && !o.debug) return;
    const time = new Date().toISOString();
    if (!o.file) {
      // no --log: warnings and debug go to stderr; errors are printed by the CLI
      if (level !== 'error') process.stderr.write(`tsrun: ${level === 'warning' ? 'warning: ' : ''}${msg}\n`);
      return;
    }
    const line =
      o.format === 'json'
        ? JSON.stringify({ level, msg, time }) + '\n'
        : `time="${time}" level=${level} msg=${JSON.stringify(msg)}\n`;
    try {
      fs.appendFileSync(o.file, line);
    } catch {
      /* a log we cannot write must not fail the operation */
    }
  };
  return {
    debug: (m) => write('debug', m),
    info: (m) => write('info', m),
    warn: (m) => write('warning', m),
    error: (m) => write('error', m),
  };
}
