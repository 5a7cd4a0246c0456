// tsrun.volumes entries: "HOST:CONTAINER[:ro|:rw]".  The one parser, used by
// config validation (src/spec/validate.ts) and by the runtime (src/image).
import * as path from 'path';
import { ConfigError } from '../errors';

export interface Volume {
  source: string;
  destination: string;
  readonly: boolean;
}

/** A malformed volume entry: `reason` alone, the message names the entry. */
export class VolumeError extends ConfigError {
  constructor(
    readonly entry: string,
    readonly reason: string,
  ) {
    super([`tsrun.volumes: ${JSON.stringify(entry)}: ${reason}`]);
  }
}

/** "HOST:CONTAINER[:ro|:rw]" -> Volume.  Both paths absolute; no ".." in the container path. */
export function parseVolume(entry: string): Volume {
  const bad = (why: string) => new VolumeError(entry, why);
  const parts = entry.split(':');
  if (parts.length < 2 || parts.length > 3) throw bad('expected HOST:CONTAINER[:ro|:rw]');
  const [source, destination, option] = parts;
  if (source === '') throw bad('empty host path');
  if (destination === '') throw bad('empty container path');
  if (!source.startsWith('/')) throw bad(`host path "${source}" must be absolute`);
  if (!destination.startsWith('/')) throw bad(`container path "${destination}" must be absolute`);
  if (destination.split('/').includes('..')) throw bad(`container path "${destination}" must not contain ".."`);
  if (option !== undefined && option !== 'ro' && option !== 'rw') throw bad(`unknown option "${option}" (expected ro or rw)`);
  return { source: path.posix.normalize(source), destination: path.posix.normalize(destination), readonly: option === 'ro' };
}
