/** Who the daemon acts as, in the protocol's words (`auth/status`, `auth/changed`, `auth/signOut`, `initialize`). */
import type { Store } from '../store/types.js';

/** The acting user as the protocol shows it (id and email only). */
export function publicUser(store: Store): { id: string; email: string | null } | null {
  const u = store.user();
  return u ? { id: u.id, email: u.email } : null;
}

/** Who the daemon acts as: the answer of `auth/status` and the params of `auth/changed`. */
export function actingStatus(store: Store): { store: Store['mode']; signedIn: boolean; user: ReturnType<typeof publicUser> } {
  const user = publicUser(store);
  return { store: store.mode, signedIn: user !== null, user };
}
