import { InvalidIdError } from '../errors';

const ID_RE = /^[A-Za-z0-9][A-Za-z0-9_+\-.]*$/;
export const MAX_ID_LENGTH = 1024;

/**
 * Container ids name a directory under --root and the data dir, so anything
 * that could leave them (a "/", "." or "..", a NUL) is refused.  The alphabet
 * is runc's: letters, digits, and _ + - . (not leading).
 */
export function validateId(id: unknown): string {
  if (typeof id !== 'string' || id.length === 0) throw new InvalidIdError('invalid container id: it is empty');
  if (id.length > MAX_ID_LENGTH) throw new InvalidIdError(`invalid container id "${id.slice(0, 32)}...": longer than ${MAX_ID_LENGTH} characters`);
  if (id === '.' || id === '..' || !ID_RE.test(id)) {
    throw new InvalidIdError(`invalid container id ${JSON.stringify(id)}: use letters, digits and _ + - . (not first)`);
  }
  return id;
}

/** A new id for a container the user did not name: 12 random hex digits (as docker's short ids). */
export function generateId(): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('crypto') as typeof import('crypto')).randomBytes(6).toString('hex');
}
