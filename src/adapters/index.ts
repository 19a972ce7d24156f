/**
 * Opens the adapter for a profile target: `postgres` (a pg pool) or `pglite`
 * (the embedded database). See adapter.ts for the interface, postgres.ts and
 * pglite.ts for what each does and the errors they throw.
 */
import type { TargetConfig } from '../config/types.ts';
import type { Adapter } from './adapter.ts';
import { TsdbtError } from '../errors.ts';
import type { PostgresAdapterOptions } from './postgres.ts';
import type { PgliteAdapterOptions } from './pglite.ts';

export type { Adapter, Connection, CopyObserver, RelationRef, RelationInfo, ColumnInfo, QueryResult } from './adapter.ts';
export { DatabaseError } from './adapter.ts';
export { quoteIdentifier, quoteLiteral, quoteRelation } from './quote.ts';

export type CreateAdapterOptions = PostgresAdapterOptions & PgliteAdapterOptions;

/**
 * Creates the adapter for `target.type`. Each engine's module is loaded only when
 * used (PGlite's WASM is large). Always `close()` the result.
 *
 * @throws TsdbtError — connection errors of createPostgresAdapter (`connection-refused`,
 *   `auth-failed`, `database-not-found`, …) or createPgliteAdapter (`database-locked`, …).
 */
export async function createAdapter(target: TargetConfig, options: CreateAdapterOptions = {}): Promise<Adapter> {
  switch (target.type) {
    case 'postgres': {
      const { createPostgresAdapter } = await import('./postgres.ts');
      return createPostgresAdapter(target, options);
    }
    case 'pglite': {
      const { createPgliteAdapter } = await import('./pglite.ts');
      return createPgliteAdapter(target, options);
    }
    default:
      throw new TsdbtError('adapter-unknown-type', `target '${(target as TargetConfig).name}' has type '${String((target as TargetConfig).type)}', which tsdbt does not support`, {
        hint: 'Use type: postgres or type: pglite in profiles.yml.',
      });
  }
}
