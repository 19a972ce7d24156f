/**
 * dbt's JSON artifacts: manifest.json (v12) and run_results.json (v6).
 */
export {
  writeManifest,
  readManifest,
  buildParentChildMaps,
  manifestForJson,
  nodeForJson,
  sourceForJson,
  unitTestForJson,
  writeFileAtomic,
  MANIFEST_FILE,
} from './manifest-json.ts';
export {
  writeRunResults,
  readRunResults,
  redactArgs,
  RUN_RESULTS_FILE,
  DBT_COMPAT_VERSION,
  type NodeResult,
  type RunResults,
  type TimingInfo,
  type AdapterResponse,
  type BatchResults,
  type ResultStatus,
  type NodeStatus,
  type TestStatus,
  type FreshnessStatus,
  type WriteRunResultsOptions,
} from './run-results.ts';
export { MANIFEST_SCHEMA_VERSION, RUN_RESULTS_SCHEMA_VERSION } from './schema-keys.ts';
export { ProgressiveRunResults } from './progressive-run-results.ts';
export { applyRunJournal, RUN_JOURNAL_FILE, UNFINISHED_ARG, NOT_STARTED_MESSAGE, INTERRUPTED_MESSAGE } from './run-journal.ts';
