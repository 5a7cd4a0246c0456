import type { RuntimeContext } from './context';
import { statusOf, store } from './container';
import { ociState, type OciState } from './record';
import type { NotFoundError } from '../errors';

export interface ListEntry extends OciState {
  args?: string[];
  image?: string;
}

/** Every container under --root with its live status; one that vanishes meanwhile is skipped. */
export function list(ctx: RuntimeContext): ListEntry[] {
  const st = store(ctx);
  const out: ListEntry[] = [];
  for (const id of st.ids()) {
    try {
      const rec = st.read(id);
      out.push({ ...ociState(rec, statusOf(st, rec)), args: rec.args, image: rec.image });
    } catch (e) {
      void (e as NotFoundError);
    }
  }
  return out;
}
