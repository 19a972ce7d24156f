/**
 * dbt's four built-in generic tests (package `dbt`) are Jinja in
 * src/macros/dbt/generic_tests.sql, written for tsdbt with dbt's names, signatures
 * and SQL: `test_unique` (what a `data_tests:` entry calls) dispatches to
 * `default__test_unique`, as dbt-core's `tests/generic/builtin.sql` does, so a
 * project overrides either the test (`{% test unique %}`) or its SQL
 * (`{% macro default__test_unique(model, column_name) %}`).
 *
 * Each returns a query selecting the failing rows; the test passes when it
 * returns none. Callers wrap it with {@link wrapTestSql}.
 *
 * Arguments, as dbt passes them (all already rendered, see `renderTestKwargs`):
 * - `model`: the tested relation, or `(select * from <relation> where <where>) dbt_subquery`
 *   when the test has a `where` config (the `get_where_subquery` macro);
 * - `column_name`: a column name or any SQL expression, e.g. `(userid || '-' || time_started)`;
 * - `to` (relationships): the parent relation (the kwarg `ref('customers')`, rendered);
 * - `values`, `quote` (accepted_values): values are wrapped in single quotes unless
 *   `quote: false`; like dbt, quotes inside a value are not escaped.
 *
 * Context the macros read: `adapter.dispatch`, `config.get('store_failures')` and
 * `flags.STORE_FAILURES` (not_null selects `*` instead of the column when failures
 * are stored, dbt's `should_store_failures()`).
 */
import { builtinMacroSource } from '../macros/builtin-macros.ts';

/** Where the built-in generic tests are defined (as errors and the manifest name it). */
export const BUILTIN_TEST_MACROS_FILE = 'tsdbt/macros/dbt/generic_tests.sql';

/** The text of generic_tests.sql (it calls `should_store_failures` from configs.sql). */
export const BUILTIN_TEST_MACROS: string = builtinMacroSource('generic_tests.sql');

/** Names of the built-in generic tests (for "unknown test" suggestions). */
export const BUILTIN_TEST_NAMES: readonly string[] = ['unique', 'not_null', 'accepted_values', 'relationships'];
