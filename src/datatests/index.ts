/**
 * dbt data tests: reading `data_tests:` entries, naming generic tests, the
 * built-in test macros, the failure-counting query and test status, and
 * store_failures. Pure functions except `storeFailures`, which runs SQL
 * through an Adapter. See README.md in this folder.
 */
export { parseTestEntry, testMacroName, TEST_CONFIG_ARGS, type TestSpec } from './test-spec.ts';
export {
  genericTestNames,
  genericTestNodeName,
  genericTestUniqueId,
  genericTestHash,
  genericTestKwargs,
  genericTestMetadata,
  genericTestModelArg,
  renderTestKwargs,
  kwargTemplate,
  type TestTarget,
  type GenericTestNames,
} from './generic-test-name.ts';
export { BUILTIN_TEST_MACROS, BUILTIN_TEST_MACROS_FILE, BUILTIN_TEST_NAMES } from './builtin-tests.ts';
export {
  wrapTestSql,
  limitSql,
  failingRowsSql,
  testStatus,
  testResult,
  failureCount,
  TEST_CONFIG_DEFAULTS,
  type TestRunConfig,
  type TestResultRow,
  type TestStatus,
  type TestStatusOptions,
  type TestOutcome,
} from './test-sql.ts';
export {
  storeFailuresSql,
  storeFailures,
  storedFailuresQuery,
  auditSchemaName,
  resolveStoreFailures,
  type StoreFailuresPlan,
  type IdentifierQuoter,
} from './store-failures.ts';
export { pythonStr, pythonRepr } from './python-repr.ts';
