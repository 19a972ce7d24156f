/** Materializations: view, table, incremental, seed, ephemeral, snapshot — one set of SQL for PostgreSQL and PGlite. */
export { materialize, MATERIALIZATIONS, type Materialization } from './materialize.ts';
export { RecordingSession, type MaterializeContext, type MaterializeResult } from './context.ts';
export { resolveIncrementalStrategy, incrementalDml, INCREMENTAL_STRATEGIES, type IncrementalStrategy } from './incremental.ts';
export { planSchemaChange, validateOnSchemaChange, describeSchemaChange, type OnSchemaChange, type SchemaChangePlan } from './schema-change.ts';
export { helperIdentifier, tmpRelation, backupRelation, type Quoter } from './sql.ts';
export { isRetrySafe, markNotRetrySafe } from './retry-safety.ts';
export { checkNodeConfigs, configSqlErrors, type ConfigOwner, type ConfigCheckedNode } from './config-check.ts';
export type { NodeDocs } from './context.ts';
export { snapshotSpec, snapshotStagingSql, snapshotMergeSql, buildSnapshotTableSql, hardDeletesOf, type SnapshotSpec, type HardDeletes } from './snapshot.ts';
export { detectCitus, lostCitusWorker, citusHeaderNote, distWithoutCitusWarning, distributeSql, type CitusInfo } from './citus.ts';
export { RelationCache } from './relation-cache.ts';
