/**
 * `source freshness`: for each selected source table with a freshness
 * threshold, `max(loaded_at_field)` (with the threshold's `filter`) against
 * the database's `now()`, and the status dbt's FreshnessRunner gives:
 * `pass` / `warn` / `error` (stale), or `runtime error` (no loaded_at_field —
 * Postgres has no metadata-based freshness —, a query error, an empty table).
 *
 * A `timestamp without time zone` column is read as UTC, as dbt does (its
 * `_utc`): the query runs with the session time zone set to UTC.
 */
import type { Adapter } from '../adapters/adapter.ts';
import type { SourceDefinition } from '../parse/manifest.ts';
import { freshnessStatus, type FreshnessThreshold } from '../parse/source-freshness.ts';

/** One table's outcome: dbt's SourceFreshnessResult (or SourceFreshnessRuntimeError when `error` is set). */
export interface FreshnessResult {
  readonly unique_id: string;
  readonly status: 'pass' | 'warn' | 'error' | 'runtime error';
  /** ISO-8601 UTC, e.g. `2026-12-03T09:15:00+00:00`; absent for a runtime error. */
  readonly max_loaded_at?: string;
  readonly snapshotted_at?: string;
  readonly max_loaded_at_time_ago_in_s?: number;
  readonly criteria?: FreshnessThreshold;
  readonly adapter_response?: Record<string, unknown>;
  readonly timing: { name: string; started_at: string; completed_at: string }[];
  readonly thread_id: string;
  readonly execution_time: number;
  /** The runtime error's message. */
  readonly error?: string;
}

/** Where progress goes (the CLI's Console fits). */
export interface FreshnessReporter {
  info(text: string): void;
  error(text: string): void;
}

const WIDTH = 80;
const dots = (left: string, right: string) => `${left} ${'.'.repeat(Math.max(3, WIDTH - left.length - right.length - 2))} ${right}`;
const LABEL: Record<FreshnessResult['status'], string> = { pass: 'PASS', warn: 'WARN', error: 'ERROR STALE', 'runtime error': 'ERROR' };

function isoUtc(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString().replace('Z', '+00:00');
}

/** The freshness query for `source` (dbt's collect_freshness on Postgres), its ages as epoch seconds. */
export function freshnessSql(source: Pick<SourceDefinition, 'relation_name' | 'loaded_at_field'>, filter: string | null): string {
  return (
    `select extract(epoch from (max(${source.loaded_at_field}))::timestamptz)::float8 as max_loaded_at,\n` +
    `       extract(epoch from now())::float8 as snapshotted_at\n` +
    `from ${source.relation_name}` +
    (filter ? `\nwhere ${filter}` : '')
  );
}

/**
 * Checks each of `sources` in order on one connection of `adapter`. Never
 * throws for a table (its failure is its `runtime error` result).
 */
export async function checkFreshness(adapter: Adapter, sources: readonly SourceDefinition[], reporter: FreshnessReporter): Promise<FreshnessResult[]> {
  const results: FreshnessResult[] = [];
  const total = sources.length;
  for (const [i, src] of sources.entries()) {
    const pos = `${i + 1} of ${total}`;
    const what = `freshness of ${src.source_name}.${src.name}`;
    const startedAt = new Date().toISOString();
    const t0 = performance.now();
    const criteria = src.freshness!;
    let result: FreshnessResult;
    try {
      if (!src.loaded_at_field) {
        throw new Error(`Could not compute freshness for source ${src.name}: no 'loaded_at_field' provided and postgres adapter does not support metadata-based freshness checks.`);
      }
      const row = await adapter.withConnection((conn) =>
        conn.transaction(async (tx) => {
          await tx.query("set local time zone 'UTC'");
          return (await tx.query<{ max_loaded_at: number | null; snapshotted_at: number }>(freshnessSql(src, criteria.filter))).rows[0];
        }),
      );
      if (row.max_loaded_at === null || row.max_loaded_at === undefined) {
        throw new Error(
          `Expected a timestamp value when querying field '${src.loaded_at_field}' of table ${src.relation_name} but received value 'null'. This can happen when the table has no data (or no row passes the freshness filter).`,
        );
      }
      const max = Number(row.max_loaded_at);
      const now = Number(row.snapshotted_at);
      const age = now - max;
      const completedAt = new Date().toISOString();
      result = {
        unique_id: src.unique_id,
        status: freshnessStatus(criteria, age),
        max_loaded_at: isoUtc(max),
        snapshotted_at: isoUtc(now),
        max_loaded_at_time_ago_in_s: age,
        criteria,
        adapter_response: { _message: 'SELECT 1', code: 'SELECT', rows_affected: 1 },
        timing: [
          { name: 'compile', started_at: startedAt, completed_at: startedAt },
          { name: 'execute', started_at: startedAt, completed_at: completedAt },
        ],
        thread_id: 'Thread-1',
        execution_time: (performance.now() - t0) / 1000,
      };
    } catch (e) {
      result = {
        unique_id: src.unique_id,
        status: 'runtime error',
        error: e instanceof Error ? e.message : String(e),
        timing: [],
        thread_id: 'Thread-1',
        execution_time: (performance.now() - t0) / 1000,
      };
    }
    results.push(result);
    const secs = `${result.execution_time.toFixed(2)}s`;
    reporter.info(dots(`${pos} ${LABEL[result.status]} ${what}`, `[${LABEL[result.status]} in ${secs}]`));
    if (result.error) reporter.error(`    Runtime Error in source ${src.source_name}.${src.name} (${src.original_file_path})\n      ${result.error}`);
  }
  return results;
}
