/**
 * Which failures of a materialization may be retried by re-running the whole
 * node (the runner does so on a lost connection when the profile's `retries`
 * allows it).
 *
 * Re-running a node is safe — idempotent — when every step either
 * (a) builds something under a temporary name that the next attempt drops
 *     first (`<alias>__tsdbt_tmp` — dropLeftovers — or the session-temporary
 *     `__tsdbt_incr` table, which dies with the session), or
 * (b) runs in one transaction that the lost connection rolled back (the swap,
 *     grants), or that committed and is simply redone with the same result
 *     (a swap of a freshly built relation replaces it again).
 * That covers `view`, `table`, `seed` and the first build of an `incremental`
 * model. It does NOT cover an incremental model's DML transaction (append,
 * delete+insert, merge): when the connection drops during its COMMIT nobody
 * knows whether the rows went in, and appending them again would duplicate
 * them. Such errors are marked with {@link markNotRetrySafe}. Pre- and
 * post-hooks are user SQL of unknown effect: the runner never retries a node
 * that has any.
 */

const notRetrySafe = new WeakSet<object>();

/** Marks `e` as raised after a step that must not be repeated. Returns `e`. */
export function markNotRetrySafe<E>(e: E): E {
  if (e && typeof e === 'object') notRetrySafe.add(e);
  return e;
}

/** False when {@link markNotRetrySafe} marked `e` (or an error in its cause chain). */
export function isRetrySafe(e: unknown): boolean {
  for (let cur: unknown = e, depth = 0; cur && depth < 6; depth++) {
    if (typeof cur === 'object' && notRetrySafe.has(cur)) return false;
    cur = (cur as { cause?: unknown }).cause;
  }
  return true;
}
