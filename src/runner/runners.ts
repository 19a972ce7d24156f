/**
 * One runner per resource type, behind the one node-session policy
 * (node-session.ts): the scheduler and executePlan know nothing about
 * resource types; they call `RUNNERS[node.resource_type]`.
 *
 * - model, seed, snapshot: materialize (src/materializations) — dbt's ModelRunner / SeedRunner / SnapshotRunner;
 *   a user-defined materialization builds a model or a seed (materializations/custom.ts), a snapshot's is `[unsupported]`;
 * - test: the data test query, failing rows kept under store_failures — dbt's TestRunner;
 * - anything else: `[unsupported]`, never a silent skip.
 */
import { TsdbtError } from '../errors.ts';
import type { Adapter, Connection, RelationRef } from '../adapters/adapter.ts';
import type { ManifestNode } from '../parse/manifest.ts';
import type { CompiledNode } from '../compile/compile.ts';
import type { NodeResult } from '../artifacts/index.ts';
import { materialize, type RelationCache } from '../materializations/index.ts';
import type { ContractSpec } from '../materializations/contract.ts';
import { runCustomMaterialization, type CustomMaterializationInput } from '../materializations/custom.ts';
import type { MaterializationLookup } from '../parse/materialization-macros.ts';
import { wrapTestSql, testResult, failingRowsSql, storeFailures, resolveStoreFailures, auditSchemaName, type TestResultRow, type TestRunConfig } from '../datatests/index.ts';
import type { NodeSession } from './node-session.ts';
import type { TaskOutcome } from './scheduler.ts';
import type { NodeDetail } from './run.ts';
import type { UnitTestOutcome } from '../unittests/run-unit-test.ts';

/** Invocation-wide settings the runners read. */
export interface RunnerOptions {
  readonly adapter: Adapter;
  readonly fullRefresh: boolean;
  readonly warnError: boolean;
  readonly storeFailures: boolean;
  readonly targetSchema: string;
  /** Relations of selected models downstream of a node, with a view model's new SQL (a stale view is recreated from it in the swap). */
  readonly rebuiltLater: (uniqueId: string) => (RelationRef & { readonly sql?: string })[];
  readonly renderHookAtRunTime?: (uniqueId: string, template: string, conn: Pick<Connection, 'query'>, threadId: string) => Promise<string>;
  /** Runs the unit test `uniqueId` on `conn` (src/unittests/run-unit-test.ts). */
  readonly runUnitTest?: (uniqueId: string, conn: Connection, threadId: string, statements: string[]) => Promise<UnitTestOutcome>;
  /** User-defined `{% materialization %}` macros (absent: only tsdbt's built-ins). */
  readonly customMaterializations?: CustomMaterializations;
  /** The relation of the model named `name` (Citus's `colocate_with` config), or undefined. */
  readonly modelRelation?: (name: string) => RelationRef | undefined;
  /** The invocation's schema knowledge (materializations/relation-cache.ts), shared by every node. */
  readonly relationCache?: RelationCache;
}

/** How runners find and run user-defined materializations (wired by the CLI from the parsed project and its Compiler). */
export interface CustomMaterializations {
  /** The macro that builds `node` under dbt's precedence, if any (parse/materialization-macros.ts). */
  readonly find: (node: ManifestNode) => MaterializationLookup;
  /** Compiler.runInContextAtRunTime. */
  readonly runInContext: <T>(uniqueId: string, db: Parameters<CustomMaterializationInput['runInContext']>[0], threadId: string, fn: Parameters<CustomMaterializationInput['runInContext']>[1]) => Promise<T>;
  /** JinjaEnv.callMacro with no arguments. */
  readonly callMacro: (qualifiedName: string, ctx: Record<string, unknown>) => unknown;
}

/** The materialization a node runs with: its config, else `seed` / `test` / `view`, as dbt's defaults. */
function materializationOf(node: ManifestNode): string {
  return String(node.config.materialized ?? (node.resource_type === 'seed' ? 'seed' : node.resource_type === 'test' ? 'test' : 'view'));
}

/** A seed's `delimiter` config, if set. */
function seedDelimiter(node: ManifestNode): string | undefined {
  const d = (node.config as { delimiter?: unknown }).delimiter;
  return typeof d === 'string' ? d : undefined;
}

/** A seed's `column_types` config, if set. */
function seedColumnTypes(node: ManifestNode): Record<string, string> | undefined {
  const t = (node.config as { column_types?: unknown }).column_types;
  return t && typeof t === 'object' ? (t as Record<string, string>) : undefined;
}

/** A user-defined materialization for a node tsdbt can only build with its own: an error, never a silent fallback. */
function unsupportedCustom(node: ManifestNode, lookup: MaterializationLookup): TsdbtError {
  const c = lookup.choice!;
  return new TsdbtError('unsupported-custom-materialization', `[unsupported] ${node.resource_type} ${node.name}: the user-defined materialization '${c.macro}' (${c.file}:${c.line}) can only build models, seeds and tests in tsdbt yet`, {
    file: c.file,
    line: c.line,
    hint: `Remove or rename the {% materialization ${materializationOf(node)} %} block, or exclude ${node.resource_type}s from this run.`,
    kind: 'runtime',
  });
}

/** What a runner is given for one node. */
export interface RunnerInput {
  readonly node: ManifestNode;
  readonly threadId: string;
  /** The up-front compile, when the node had one. */
  readonly compiled: CompiledNode | undefined;
  /** The compiled node: the up-front one, or compiled now on `conn` (a node whose templates ask the database). */
  readonly compiledOn: (conn: Connection) => Promise<CompiledNode | undefined>;
  readonly session: NodeSession;
  readonly options: RunnerOptions;
}

/** A runner's result for one node (executePlan adds timing, thread and compiled code). */
export interface RunnerResult {
  readonly status: NodeResult['status'];
  readonly message: string | null;
  readonly adapterResponse: NodeResult['adapter_response'];
  readonly failures?: number | null;
  readonly outcome: TaskOutcome;
  readonly warnings?: readonly string[];
  readonly detail?: NodeDetail;
  /** The SQL that ran, when the runner built it itself (unit tests); else the compiled node's. */
  readonly compiledCode?: string;
}

/** Runs one node. Throws for a node error (executePlan turns it into the node's result). */
export type NodeRunner = (input: RunnerInput) => Promise<RunnerResult>;

/** model, seed and snapshot: dbt's materializations. */
export const materializeRunner: NodeRunner = async (input) => {
  const { node, threadId, compiledOn, session, options } = input;
  const custom = options.customMaterializations;
  const lookup = custom && node.config.materialized !== 'ephemeral' ? custom.find(node) : {};
  // dbt's SeedRunner runs a user-defined `seed` materialization too; a snapshot override is not supported yet.
  if (lookup.choice && node.resource_type !== 'model' && node.resource_type !== 'seed') throw unsupportedCustom(node, lookup);
  if (lookup.choice && custom) {
    // A user-defined materialization (dbt's materialization macro) builds the model instead of tsdbt's own.
    const choice = lookup.choice;
    const res = await session.onConnection(node, async (conn: Connection) => {
      const cc = await compiledOn(conn);
      return runCustomMaterialization({
        conn,
        adapter: options.adapter,
        choice,
        relation: { database: node.database, schema: node.schema, identifier: node.alias },
        node: { name: node.name, config: node.config, docs: { description: node.description, columns: Object.values(node.columns) } },
        sql: cc?.compiledCode ?? '',
        seed: node.resource_type === 'seed' ? { file: node.seed_file!, displayPath: node.original_file_path, delimiter: seedDelimiter(node), columnTypes: seedColumnTypes(node) } : undefined,
        runInContext: (db, fn) => custom.runInContext(node.unique_id, db, threadId, fn),
        callMacro: custom.callMacro,
      });
    });
    return builtResult(session, node, res, lookup.warning);
  }
  const res = await session.onConnection(node, async (conn: Connection) => {
    const cc = await compiledOn(conn);
    const render = options.renderHookAtRunTime;
    return materialize({
      conn,
      adapter: options.adapter,
      relation: { database: node.database, schema: node.schema, identifier: node.alias },
      sql: cc?.compiledCode ?? '',
      config: node.config,
      fullRefresh: options.fullRefresh,
      rebuiltLater: options.rebuiltLater(node.unique_id),
      preHooks: cc?.preHooks,
      postHooks: cc?.postHooks,
      beforeBeginHooks: cc?.beforeBeginHooks,
      afterCommitHooks: cc?.afterCommitHooks,
      renderHook: render ? (template, hookConn) => render(node.unique_id, template, hookConn, threadId) : undefined,
      seed: node.resource_type === 'seed' ? { file: node.seed_file!, displayPath: node.original_file_path } : undefined,
      docs: { description: node.description, columns: Object.values(node.columns) },
      contract: contractSpec(node),
      colocateWith: typeof node.config.colocate_with === 'string' ? options.modelRelation?.(node.config.colocate_with) : undefined,
      relationCache: options.relationCache,
    });
  });
  return builtResult(session, node, res, lookup.warning);
};

/**
 * A model's enforced contract (`config.contract.enforced`) as the materialization takes it: its
 * columns in properties order with data_type and constraints, and its model-level constraints
 * (foreign keys' `to` already the referenced relation, see src/parse/contracts.ts). Undefined otherwise.
 */
export function contractSpec(node: ManifestNode): ContractSpec | undefined {
  const contract = (node.config as { contract?: { enforced?: boolean } }).contract;
  if (node.resource_type !== 'model' || contract?.enforced !== true) return undefined;
  return {
    columns: Object.values(node.columns).map((c) => ({ name: c.name, data_type: c.data_type ?? '', quote: c.quote, constraints: c.constraints ?? [] })),
    constraints: node.constraints ?? [],
  };
}

/** test: the data test's failures counted as dbt's get_test_sql, with warn_if/error_if; failing rows sampled for the console. */
export const testRunner: NodeRunner = async (input) => {
  const { node, compiled, compiledOn, session, options } = input;
  const custom = options.customMaterializations;
  const lookup = custom?.find(node) ?? {};
  // A test whose SQL asks the database compiles on a connection first (then runs as any other).
  const c = compiled ?? (await session.onConnection(node, compiledOn))!;
  const config = c.config ?? node.config;
  if (lookup.choice && custom) {
    // A user-defined `test` materialization (dbt's TestRunner calls materialization_test_*): its 'main'
    // statement must fetch dbt's failures / should_warn / should_error row.
    const choice = lookup.choice;
    const res = await session.onConnection(node, (conn) =>
      runCustomMaterialization({
        conn,
        adapter: options.adapter,
        choice,
        relation: { database: node.database, schema: node.schema, identifier: node.alias },
        node: { name: node.name, config },
        sql: c.compiledCode,
        warnUncommitted: false,
        runInContext: (db, fn) => custom.runInContext(node.unique_id, db, input.threadId, fn),
        callMacro: custom.callMacro,
      }),
    );
    session.writeRunFile(node, res.statements);
    const row = res.mainRow;
    if (!row || !('failures' in row)) {
      throw new TsdbtError('test-materialization-result', `the test materialization '${choice.macro}' (${choice.file}:${choice.line}) did not fetch the failures row of statement('main') for test ${node.name}`, {
        file: choice.file,
        line: choice.line,
        hint: "Run {% call statement('main', fetch_result=True) %}{{ get_test_sql(sql, fail_calc, warn_if, error_if, limit) }}{% endcall %}, or end with {{ return(dbt.materialization_test_default()) }}.",
        kind: 'runtime',
      });
    }
    const outcome = testResult(row as unknown as TestResultRow, config as TestRunConfig, { warnError: options.warnError });
    return {
      status: outcome.status,
      message: outcome.message,
      adapterResponse: { _message: res.message, code: res.message.split(' ')[0], rows_affected: res.rowsAffected ?? -1 },
      failures: outcome.failures,
      outcome: outcome.status === 'fail' ? 'fail' : outcome.status === 'warn' ? 'warn' : 'ok',
      warnings: [...(lookup.warning ? [lookup.warning] : []), ...res.warnings],
    };
  }
  const statements: string[] = [];
  let countSql = c.compiledCode;
  const limit = (config.limit as number | null | undefined) ?? null;
  const store = resolveStoreFailures(config as { store_failures?: boolean | null }, options.storeFailures);
  if (store.store) {
    // Failing rows are kept in <target schema>_dbt_test__audit, replaced each run (as dbt's store_failures).
    const plan = await storeFailures(options.adapter, { schema: auditSchemaName(options.targetSchema), identifier: node.alias }, c.compiledCode, { limit, as: store.as });
    statements.push(...plan.statements);
    countSql = plan.mainSql;
  }
  const wrapped = wrapTestSql(countSql, {
    fail_calc: config.fail_calc as string | undefined,
    warn_if: config.warn_if as string | undefined,
    error_if: config.error_if as string | undefined,
    limit,
  });
  statements.push(wrapped);
  const { row, failingRows } = await session.onConnection(node, async (conn) => {
    const r = await conn.query(wrapped);
    const row = r.rows[0] as unknown as TestResultRow;
    let failingRows: Record<string, unknown>[] | undefined;
    if (Number(row.failures) > 0) {
      const sample = await conn.query(failingRowsSql(countSql, 5, limit)).catch(() => null);
      failingRows = sample?.rows as Record<string, unknown>[] | undefined;
    }
    return { row, failingRows };
  });
  session.writeRunFile(node, statements);
  const outcome = testResult(row, config as TestRunConfig, { warnError: options.warnError });
  return {
    status: outcome.status,
    message: outcome.message,
    adapterResponse: { _message: 'SELECT 1', code: 'SELECT', rows_affected: 1 },
    failures: outcome.failures,
    outcome: outcome.status === 'fail' ? 'fail' : outcome.status === 'warn' ? 'warn' : 'ok',
    detail: { failingRows },
    ...(lookup.warning ? { warnings: [lookup.warning] } : {}),
  };
};

/** unit_test: the model over its fixtures compared with the expected rows — dbt's UnitTestRunner. A difference fails it (failures 1) with the diff as message. */
export const unitTestRunner: NodeRunner = async ({ node, threadId, session, options }) => {
  const run = options.runUnitTest;
  if (!run) throw new TsdbtError('unit-test-runner', `unit test ${node.name} cannot run here`, { file: node.original_file_path, kind: 'runtime' });
  const statements: string[] = [];
  let out: UnitTestOutcome;
  try {
    out = await session.onConnection(node, (conn) => {
      statements.length = 0;
      return run(node.unique_id, conn, threadId, statements);
    });
  } finally {
    session.writeRunFile(node, statements);
  }
  return {
    status: out.status,
    message: out.message,
    adapterResponse: { _message: 'SELECT', code: 'SELECT', rows_affected: out.comparison.actual.length + out.comparison.expected.length },
    failures: out.status === 'fail' ? 1 : 0,
    outcome: out.status === 'fail' ? 'fail' : 'ok',
    compiledCode: out.sql,
  };
};

/** A resource type tsdbt cannot run yet: an error naming it, never a silent skip. */
export const unsupportedRunner: NodeRunner = async ({ node }) => {
  throw new TsdbtError(`unsupported-${node.resource_type}`, `[unsupported] ${node.resource_type}s are not supported yet (${node.name})`, {
    file: node.original_file_path,
    hint: `exclude it with --exclude resource_type:${node.resource_type}`,
    kind: 'runtime',
  });
};

/** The runner of each resource type. */
export const RUNNERS: Partial<Record<ManifestNode['resource_type'], NodeRunner>> = {
  model: materializeRunner,
  seed: materializeRunner,
  test: testRunner,
  unit_test: unitTestRunner,
  snapshot: materializeRunner,
};

/**
 * A built node's result (built-in or custom materialization): its run file written, status `success`, the
 * statement's message as dbt-postgres's adapter_response (`code`, `rows_affected`), and the warnings.
 */
function builtResult(
  session: { writeRunFile: (node: ManifestNode, statements: readonly string[]) => void },
  node: ManifestNode,
  res: { message: string; rowsAffected?: number | null; statements: readonly string[]; warnings: readonly string[] },
  lookupWarning: string | undefined,
) {
  session.writeRunFile(node, res.statements);
  return {
    status: 'success' as const,
    message: res.message,
    adapterResponse: { _message: res.message, code: res.message.split(' ')[0], rows_affected: res.rowsAffected ?? -1 },
    outcome: 'ok' as const,
    warnings: [...(lookupWarning ? [lookupWarning] : []), ...res.warnings],
  };
}
