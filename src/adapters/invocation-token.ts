/**
 * The invocation token: six random lower-case hex digits chosen when an adapter
 * is created (one adapter per invocation). Materializations append it to the
 * names of their helper relations (`orders__tsdbt_tmp_3fa9c1`), so two
 * invocations writing one schema never build under the same name.
 *
 * On PostgreSQL every pooled connection holds a shared session advisory lock
 * `(INVOCATION_LOCK_CLASS, token)` for its lifetime. A run that finds another
 * invocation's helper relation tries that lock exclusively: if it gets it, no
 * connection of that invocation is alive (the server releases session locks
 * when a connection ends, also on kill -9) and the relation is a leftover to
 * drop; if not, the other run is still going and its relation is left alone.
 */
import { randomBytes } from 'node:crypto';

/** First key of the invocation lock: "tsdi" in ASCII (the run lock uses "tsdb"). */
export const INVOCATION_LOCK_CLASS = 0x74736469;

/** A new token: 6 lower-case hex digits. */
export function newInvocationToken(): string {
  return randomBytes(3).toString('hex');
}

/** Second key of the invocation lock for `token` (0 … 16 777 215). */
export function invocationLockKey(token: string): number {
  return Number.parseInt(token, 16);
}

/** `select pg_advisory_lock_shared(class, key)`: what each connection of the invocation runs once. */
export function invocationLockSql(token: string): string {
  return `select pg_catalog.pg_advisory_lock_shared(${INVOCATION_LOCK_CLASS}, ${invocationLockKey(token)})`;
}

/**
 * `select pg_try_advisory_xact_lock(class, key) as free`: true when no live
 * connection of the invocation `token` remains (the lock ends with the
 * statement's transaction).
 */
export function invocationGoneSql(token: string): string {
  return `select pg_catalog.pg_try_advisory_xact_lock(${INVOCATION_LOCK_CLASS}, ${invocationLockKey(token)}) as free`;
}
