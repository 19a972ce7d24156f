/**
 * What the stages before the database need to know about a target's engine,
 * in one place (STYLE.md habit 7: engine differences are not `type === …`
 * checks scattered around). What the engine can *do* (concurrency,
 * cancellation, …) is an adapter capability flag in src/adapters/.
 */
import type { TargetConfig } from './types.ts';

/**
 * The adapter type dbt (and templates, and artifacts) see: `postgres` for both
 * targets, since PGlite is PostgreSQL (dbt-postgres's `target.type`).
 */
export function dbtAdapterType(_target: Pick<TargetConfig, 'type'>): 'postgres' {
  return 'postgres';
}

/**
 * The database name relations are qualified with: the target's `dbname`
 * (dbt-postgres's `database`), or `postgres`, PGlite's only database.
 */
export function relationDatabase(target: Pick<TargetConfig, 'type' | 'dbname'>): string {
  return target.type === 'pglite' ? 'postgres' : (target.dbname ?? 'postgres');
}
