import * as net from 'net';
import { TsrunError } from '../errors';

/** Connects to --console-socket; the shim sends the pty master over it. */
export function connectConsole(p: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(p);
    s.once('connect', () => resolve(s));
    s.once('error', (e) => reject(new TsrunError(`console socket "${p}": ${e.message}`)));
  });
}
