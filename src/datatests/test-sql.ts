/**
 * Running a data test: the query that counts failures and the status that
 * follows, as dbt's test materialization (`get_test_sql`) and
 * `TestRunner.build_test_run_result` (core/dbt/task/test.py) do.
 *
 * Singular tests (a `.sql` file under `test-paths`) need nothing more: their
 * compiled SQL is the failing-rows query and goes straight into {@link wrapTestSql}.
 */

/** A test's config with dbt's defaults (dbt's `TestConfig`). */
export interface TestRunConfig {
  /** 'error' (default) or 'warn', any case. */
  readonly severity?: string;
  /** SQL aggregate over the failing rows; default `count(*)`. */
  readonly fail_calc?: string;
  /** SQL condition appended to fail_calc; default `!= 0`. */
  readonly warn_if?: string;
  /** SQL condition appended to fail_calc; default `!= 0`. */
  readonly error_if?: string;
  /** Caps the failing rows considered (and stored); null/undefined for no cap. */
  readonly limit?: number | null;
}

/** dbt's defaults for test config (`TestConfig` in core/dbt/artifacts/resources/v1/config.py). */
export const TEST_CONFIG_DEFAULTS = {
  severity: 'ERROR',
  fail_calc: 'count(*)',
  warn_if: '!= 0',
  error_if: '!= 0',
  schema: 'dbt_test__audit',
} as const;

/** Trailing `;` and whitespace would break the wrapping subquery: dbt errors, tsdbt forgives. */
function stripTrailingSemicolons(sql: string): string {
  return sql.replace(/[\s;]+$/, '');
}

/**
 * `sql` followed by `limit N` when a limit is set (dbt's `get_limit_subquery_sql`).
 * The limit goes on its own line so a trailing `-- comment` cannot swallow it.
 */
export function limitSql(sql: string, limit?: number | null): string {
  const body = stripTrailingSemicolons(sql);
  if (limit === null || limit === undefined) return body;
  if (!Number.isInteger(limit) || limit < 0) throw new Error(`limit must be a non-negative integer, got ${limit}`);
  return `${body}\nlimit ${limit}`;
}

/**
 * Wraps a test's failing-rows query so it returns exactly one row:
 * `failures` (fail_calc), `should_warn` (fail_calc warn_if), `should_error`
 * (fail_calc error_if) — dbt's `default__get_test_sql`, with the `limit`
 * applied inside as dbt's test materialization does.
 *
 * Defaults: fail_calc `count(*)`, warn_if and error_if `!= 0`.
 *
 * @example wrapTestSql('select * from t where x is null', { error_if: '>10' })
 */
export function wrapTestSql(
  testSql: string,
  config: { fail_calc?: string | null; warn_if?: string | null; error_if?: string | null; limit?: number | null } = {},
): string {
  const failCalc = config.fail_calc || TEST_CONFIG_DEFAULTS.fail_calc;
  const warnIf = config.warn_if || TEST_CONFIG_DEFAULTS.warn_if;
  const errorIf = config.error_if || TEST_CONFIG_DEFAULTS.error_if;
  return [
    'select',
    `  ${failCalc} as failures,`,
    `  ${failCalc} ${warnIf} as should_warn,`,
    `  ${failCalc} ${errorIf} as should_error`,
    'from (',
    limitSql(testSql, config.limit),
    ') dbt_internal_test',
  ].join('\n');
}

/**
 * At most `max` failing rows, for showing the user what failed:
 * `select * from (<testSql>) dbt_internal_test limit <max>`.
 */
export function failingRowsSql(testSql: string, max = 5, limit?: number | null): string {
  return `select * from (\n${limitSql(testSql, limit)}\n) dbt_internal_test\nlimit ${max}`;
}

/** The one row {@link wrapTestSql} returns, as a driver gives it (bigint counts may be strings). */
export interface TestResultRow {
  /** number, or a string/bigint for bigint/numeric columns; null → 0. */
  readonly failures: unknown;
  /** boolean, or a driver's 't'/'f'/'true'/'1'… */
  readonly should_warn: unknown;
  readonly should_error: unknown;
}

export type TestStatus = 'pass' | 'warn' | 'fail';

/** Options for {@link testStatus}/{@link testResult}. */
export interface TestStatusOptions {
  /** `--warn-error` (or `--warn-error-options` including tests): a warning becomes a failure. */
  readonly warnError?: boolean;
}

/** Python's `strtobool`-style truth of a driver value (true/t/yes/y/on/1). */
function truthy(v: unknown): boolean {
  if (typeof v === 'string') return /^(y|yes|t|true|on|1)$/i.test(v.trim());
  return Boolean(v);
}

/**
 * The test's status from its result row, with dbt's semantics:
 * severity error → `fail` when should_error, else `warn` when should_warn, else `pass`;
 * severity warn → `warn` when should_warn (error_if is ignored), else `pass`.
 * With `warnError`, a `warn` becomes `fail`.
 */
export function testStatus(row: TestResultRow, severity: string = 'error', options: TestStatusOptions = {}): TestStatus {
  const sev = (severity || 'error').toUpperCase();
  if (sev === 'ERROR' && truthy(row.should_error)) return 'fail';
  if (truthy(row.should_warn)) return options.warnError ? 'fail' : 'warn';
  return 'pass';
}

/** A test's outcome: status, dbt's message and the failures count dbt reports (0 on pass). */
export interface TestOutcome {
  readonly status: TestStatus;
  /** `Got 3 results, configured to fail if != 0`; null on pass. */
  readonly message: string | null;
  readonly failures: number;
}

/** The failure count of a result row as a number (null → 0). */
export function failureCount(row: TestResultRow): number {
  const f = row.failures;
  if (f === null || f === undefined) return 0;
  const n = Number(f);
  return Number.isFinite(n) ? n : 0;
}

/**
 * {@link testStatus} plus dbt's message and failures count, as
 * `TestRunner.build_test_run_result` builds them.
 */
export function testResult(row: TestResultRow, config: TestRunConfig = {}, options: TestStatusOptions = {}): TestOutcome {
  const n = failureCount(row);
  const got = `Got ${n} result${n === 1 ? '' : 's'}`;
  const sev = (config.severity || 'error').toUpperCase();
  const warnIf = config.warn_if || TEST_CONFIG_DEFAULTS.warn_if;
  const errorIf = config.error_if || TEST_CONFIG_DEFAULTS.error_if;
  if (sev === 'ERROR' && truthy(row.should_error)) {
    return { status: 'fail', message: `${got}, configured to fail if ${errorIf}`, failures: n };
  }
  if (truthy(row.should_warn)) {
    return options.warnError
      ? { status: 'fail', message: `${got}, configured to fail if ${warnIf}`, failures: n }
      : { status: 'warn', message: `${got}, configured to warn if ${warnIf}`, failures: n };
  }
  return { status: 'pass', message: null, failures: 0 };
}
