/**
 * One node's outcome as the reporters need it: a flat, JSON-serialisable
 * subset of a dbt run result (run_results.json `results[]`) plus where the
 * node is defined.
 */
export interface ReportedResult {
  /** `model.jaffle_shop.orders`, `test.jaffle_shop.unique_orders_id.fed79b3a6e`. */
  readonly unique_id: string;
  /** The readable name: `orders`, `unique_orders_id`. */
  readonly name: string;
  /** dbt's resource type: `model`, `seed`, `snapshot`, `test`, … */
  readonly resourceType: string;
  /**
   * dbt's status words: models/seeds/snapshots `success` | `error` | `skipped`;
   * tests `pass` | `warn` | `fail` | `error` | `skipped`.
   */
  readonly status: 'success' | 'pass' | 'warn' | 'fail' | 'error' | 'skipped' | (string & {});
  /** dbt's message (`Got 3 results, configured to fail if != 0`, a database error, …), or null. */
  readonly message: string | null;
  /** Failing rows counted for tests (0 or null otherwise). */
  readonly failures: number | null;
  /** Project-relative file that defines the node (`models/schema.yml` for generic tests). */
  readonly file: string;
  /** 1-based line in `file` (the test entry for generic tests), when known. */
  readonly line?: number;
  /** Seconds, as run_results.json's `execution_time`. */
  readonly executionTime: number;
}

/** Statuses the reporters count as failures (fail) and errors (error). */
export const isFailure = (r: ReportedResult): boolean => r.status === 'fail';
export const isError = (r: ReportedResult): boolean => r.status === 'error' || r.status === 'runtime error';
export const isSkipped = (r: ReportedResult): boolean => r.status === 'skipped';
export const isWarning = (r: ReportedResult): boolean => r.status === 'warn';
