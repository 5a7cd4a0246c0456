import type { RuntimeContext } from './context';
import { statusOf, store } from './container';
import { ociState, type OciState } from './record';
import { NotFoundError } from '../errors';

export interface ListEntry extends OciState {
  args?: string[];
  image?: string;
}

export interface Listing {
  containers: ListEntry[];
  /** why a directory under --root is not listed: not a container tsrun made (NotAContainerError), a corrupt state file */
  skipped: Error[];
}

/** Every container under --root with its live status; one that vanishes meanwhile is skipped. */
export function list(ctx: RuntimeContext): Listing {
  const st = store(ctx);
  const out: Listing = { containers: [], skipped: [] };
  for (const id of st.ids()) {
    try {
      const rec = st.read(id);
      out.containers.push({ ...ociState(rec, statusOf(st, rec)), args: rec.args, image: rec.image });
    } catch (e) {
      // one deleted meanwhile is simply not there
      if (!(e instanceof NotFoundError)) out.skipped.push(e as Error);
    }
  }
  return out;
}
