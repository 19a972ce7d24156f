/**
 * ExecutionPlan → RunResults: executes the selected nodes in DAG order on the
 * adapter — seeds are loaded, models materialized, data tests queried — and
 * records one result per node, as dbt's run/seed/test/build tasks.
 *
 * Semantics as dbt's:
 *  - a failed node's descendants are SKIPPED; independent branches go on;
 *  - in `build`, a node's tests run right after it, and an error-severity test
 *    failure skips everything downstream of the tested node (warnings do not);
 *  - ephemeral models are never executed (they are inlined where used).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { dirname, join } from 'node:path';
import { TsdbtError } from '../errors.ts';
import type { Adapter, Connection } from '../adapters/adapter.ts';
import { DatabaseError } from '../adapters/adapter.ts';
import type { Manifest, ManifestNode } from '../parse/manifest.ts';
import type { CompiledNode } from '../compile/compile.ts';
import { compiledPathOf } from '../compile/compile.ts';
import type { ProjectConfig } from '../config/types.ts';
import { materialize } from '../materializations/index.ts';
import { wrapTestSql, testResult, failingRowsSql, storeFailures, resolveStoreFailures, auditSchemaName, type TestResultRow, type TestRunConfig } from '../datatests/index.ts';
import type { NodeResult } from '../artifacts/index.ts';
import { runTasks, type TaskOutcome } from './scheduler.ts';
import type { ExecutionPlan } from './plan.ts';
import { redact } from '../secrets.ts';
import { isRetrySafe } from '../materializations/index.ts';
import { CANCELLED_MESSAGE, CancelledError, guardConnection, isCancellation, isConnectionLost, isStatementTimeout } from './faults.ts';

import type { RunCommand } from './plan.ts';
export type { RunCommand } from './plan.ts';
export { planRun, type ExecutionPlan, type PlannedNode } from './plan.ts';

/** What the runner tells the console as it goes. */
export interface RunReporter {
  nodeStarted?(node: ManifestNode, index: number, total: number): void;
  nodeFinished(node: ManifestNode, result: NodeResult, index: number, total: number, detail?: NodeDetail): void;
  /** Something the user should know that did not fail the node. */
  nodeWarning?(node: ManifestNode, message: string): void;
}

/** Extra facts about a finished node for the console (not in run_results.json). */
export interface NodeDetail {
  /** First failing rows of a failed/warned test. */
  readonly failingRows?: Record<string, unknown>[];
  /** The upstream node whose failure caused a skip. */
  readonly skippedBecause?: string | null;
  /** Message of a TsdbtError with its location, formatted for the console. */
  readonly error?: string;
}

export interface RunPlanOptions {
  readonly command: RunCommand;
  readonly project: ProjectConfig;
  readonly manifest: Manifest;
  readonly compiled: ReadonlyMap<string, CompiledNode>;
  readonly adapter: Adapter;
  /** What runs, in which order, after what: {@link planRun}'s result. */
  readonly plan: ExecutionPlan;
  readonly threads: number;
  readonly fullRefresh: boolean;
  readonly failFast: boolean;
  readonly warnError: boolean;
  /** `--store-failures`: keep every test's failing rows (a test's own config still wins). */
  readonly storeFailures?: boolean;
  readonly targetSchema: string;
  readonly reporter: RunReporter;
  /** Aborting cancels the run: running nodes stop at once (see faults.ts), the rest are skipped. */
  readonly signal?: AbortSignal;
  /**
   * The profile's `retries` (dbt's, default 1 there): how many times a node that
   * lost its connection is re-run on a new one, when re-running it is safe
   * (see materializations/retry-safety.ts). Default 0.
   */
  readonly retries?: number;
  /** Wait before the first retry, in ms (doubled each time, at most 10 s). Default 1000. */
  readonly retryDelayMs?: number;
  /**
   * Compiles a selected node that is not in `compiled` (its templates ask the
   * database) on the connection it is about to run on, once its parents are
   * built — dbt's compile-just-before-execute. A TsdbtError it throws is that
   * node's error (downstream skipped).
   */
  readonly compileAtRunTime?: (uniqueId: string, conn: Connection, threadId: string) => Promise<CompiledNode>;
  /** Renders a hook that asks the database (`{ template }` in CompiledNode) just before it runs, on `conn`. */
  readonly renderHookAtRunTime?: (uniqueId: string, template: string, conn: Pick<Connection, 'query'>, threadId: string) => Promise<string>;
}

/** Node types each command executes. */
export const COMMAND_RESOURCE_TYPES: Record<RunCommand, readonly string[]> = {
  run: ['model'],
  seed: ['seed'],
  test: ['test'],
  build: ['model', 'seed', 'test', 'snapshot'],
};

function nowIso(): string {
  return new Date().toISOString();
}

/** The model's `query_timeout` config in seconds (> 0), or null when unset. */
export function queryTimeoutSeconds(node: ManifestNode): number | null {
  const v = (node.config as { query_timeout?: unknown }).query_timeout;
  if (v === undefined || v === null || v === 0 || v === '') return null;
  const n = typeof v === 'string' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n) || n < 0) {
    throw new TsdbtError('invalid-query-timeout', `query_timeout of ${node.resource_type} ${node.name} must be a number of seconds, got ${JSON.stringify(v)}`, {
      file: node.original_file_path,
      kind: 'project',
      hint: 'e.g. {{ config(query_timeout=300) }} or +query_timeout: 300 in dbt_project.yml (0 or none: no limit)',
    });
  }
  return n === 0 ? null : n;
}

/**
 * Turns any error from a node into the message the user sees (console and
 * run_results.json), secrets masked: dbt's "Database Error in model x (path)"
 * with Postgres's message, DETAIL and HINT — and, for the faults tsdbt can
 * name, what happened and what was kept: `cancelled`, a lost connection, a
 * statement timeout (naming `query_timeout`).
 */
export function describeNodeError(e: unknown, node: ManifestNode, compiledCode: string | undefined = node.compiled_code): string {
  if (isCancellation(e)) return CANCELLED_MESSAGE;
  const what = `${node.resource_type} ${node.name} (${node.original_file_path})`;
  const dbMessage = e instanceof Error ? e.message : String(e);
  if (isStatementTimeout(e)) {
    let limit: number | null = null;
    try {
      limit = queryTimeoutSeconds(node);
    } catch {
      /* reported elsewhere */
    }
    const which = limit !== null ? `its query_timeout of ${limit} s` : "the server's statement_timeout";
    return redact(
      `Timeout in ${what}: a statement ran longer than ${which} and was cancelled (${dbMessage}). Nothing was half-built: the previous relation is unchanged.\n` +
        `  hint: ${limit !== null ? 'raise query_timeout in the config of the model' : 'set a larger statement_timeout for this role, or a query_timeout in the config of the model'}, or make the query faster`,
    );
  }
  if (isConnectionLost(e)) {
    const kept = isRetrySafe(e)
      ? 'Nothing was changed: the previous relation is intact.'
      : "The connection dropped while the model's incremental transaction was committing: check whether the new rows are in before running it again.";
    return redact(
      `Lost the connection to the database in ${what}: ${dbMessage}. ${kept}\n` +
        '  hint: the server restarted or the session was terminated (pg_terminate_backend); run `tsdbt retry` to rebuild what failed or was skipped, or set `retries: N` in the profile to retry automatically',
    );
  }
  if (e instanceof TsdbtError) return redact(e.format());
  if (e instanceof DatabaseError) {
    const parts = [`Database Error in ${what}`, `  ${e.message}`];
    const at = errorLocation(e, node, compiledCode);
    if (at) parts.push(`  ${at}`);
    if (e.detail) parts.push(`  DETAIL: ${e.detail}`);
    if (e.hint) parts.push(`  HINT: ${e.hint}`);
    return redact(parts.join('\n'));
  }
  return redact(`Error in ${what}: ${dbMessage}`);
}

/**
 * Where in the model a database error points, from its `position` (1-based,
 * relative to the compiled SQL: the materializations subtract the wrapping
 * `create … as (`). `models/x.sql:4:6: <that line>` when the compiled SQL has
 * as many lines as the file (Jinja expressions on one line keep lines in
 * place); otherwise the line of `target/compiled/…`. Null without a position.
 */
export function errorLocation(e: DatabaseError, node: ManifestNode, compiled: string | undefined = node.compiled_code): string | null {
  if (e.position === undefined || typeof compiled !== 'string' || e.position < 1 || e.position > compiled.length + 1) return null;
  const before = compiled.slice(0, e.position - 1);
  const line = before.split('\n').length;
  const column = e.position - before.lastIndexOf('\n') - 1;
  const text = compiled.split('\n')[line - 1]?.trim() ?? '';
  const raw = node.raw_code;
  const sameLines = typeof raw === 'string' && raw.split('\n').length === compiled.split('\n').length;
  const where = sameLines ? `${node.original_file_path}:${line}:${column}` : `line ${line} of the compiled SQL (${node.compiled_path ?? 'target/compiled'})`;
  return `${where}: ${text.length > 120 ? text.slice(0, 117) + '…' : text}`;
}

/** Executes the plan; never throws for a node failure (it becomes that node's result). */
export async function executePlan(opts: RunPlanOptions): Promise<NodeResult[]> {
  const { manifest, adapter, compiled } = opts;
  const tasks = opts.plan.nodes.map((n) => ({ id: n.uniqueId, deps: [...n.dependsOn], priority: n.priority }));
  const selected = opts.plan.nodes.map((n) => n.uniqueId);
  const total = tasks.length;
  const results = new Map<string, NodeResult>();
  let counter = 0;
  let threadSeq = 0;
  const concurrency = Math.max(1, Math.min(opts.threads, adapter.capabilities.maxConcurrency));

  const selectedSet = new Set(selected);
  /** Relations of selected models downstream of `id`: the materialization may drop their stale views, since they are rebuilt later. */
  const rebuiltLater = (id: string) => {
    const out: { schema: string; identifier: string }[] = [];
    const seen = new Set<string>();
    const stack = [...(manifest.child_map[id] ?? [])];
    while (stack.length) {
      const c = stack.pop()!;
      if (seen.has(c)) continue;
      seen.add(c);
      const n = manifest.nodes[c];
      if (!n) continue;
      if (selectedSet.has(c) && n.resource_type === 'model' && n.config.materialized !== 'ephemeral') out.push({ schema: n.schema, identifier: n.alias });
      stack.push(...(manifest.child_map[c] ?? []));
    }
    return out;
  };

  const record = (node: ManifestNode, r: NodeResult, detail?: NodeDetail) => {
    results.set(node.unique_id, r);
    opts.reporter.nodeFinished(node, r, ++counter, total, detail);
  };

  const writeRunFile = (node: ManifestNode, statements: readonly string[]) => {
    if (!statements.length) return;
    const path = join(opts.project.root, compiledPathOf(opts.project, node, 'run'));
    mkdirSync(dirname(path), { recursive: true });
    // Secrets (env_var values whose name looks secret, the password) never reach target/.
    writeFileSync(path, redact(statements.map((s) => s.trim() + ';').join('\n\n') + '\n'));
  };

  const retries = Math.max(0, Math.floor(opts.retries ?? 0));
  const retryDelayMs = opts.retryDelayMs ?? 1000;
  /** Hooks are user SQL of unknown effect: a node with any is never re-run (see retry-safety.ts). */
  const hasHooks = (node: ManifestNode) => {
    const c = node.config as { pre_hook?: unknown[]; post_hook?: unknown[] };
    return (c.pre_hook?.length ?? 0) > 0 || (c.post_hook?.length ?? 0) > 0;
  };

  /**
   * Runs `fn` on a borrowed connection that stops at the next statement once the
   * run is cancelled, with the node's `query_timeout` as the session's
   * statement_timeout (reset afterwards), re-running it on a new connection when
   * the connection was lost and `retries` allow it (announced as a warning).
   */
  const onConnection = async <T>(node: ManifestNode, fn: (conn: Connection) => Promise<T>): Promise<T> => {
    let timeout = queryTimeoutSeconds(node);
    if (timeout !== null && !adapter.capabilities.cancel) {
      opts.reporter.nodeWarning?.(node, `query_timeout is not enforced on ${adapter.type}: a running statement cannot be interrupted there`);
      timeout = null;
    }
    for (let attempt = 0; ; attempt++) {
      try {
        return await adapter.withConnection(async (raw) => {
          const conn = guardConnection(raw, opts.signal);
          if (timeout !== null) await conn.query(`set statement_timeout = ${Math.max(1, Math.round(timeout * 1000))}`);
          try {
            return await fn(conn);
          } finally {
            if (timeout !== null) await raw.query('reset statement_timeout').catch(() => undefined);
          }
        });
      } catch (e) {
        if (opts.signal?.aborted) throw isCancellation(e) || isConnectionLost(e) ? new CancelledError() : e;
        if (attempt >= retries || !isConnectionLost(e) || !isRetrySafe(e) || hasHooks(node)) throw e;
        const wait = Math.min(10_000, retryDelayMs * 2 ** attempt);
        const reason = e instanceof Error ? e.message : String(e);
        opts.reporter.nodeWarning?.(node, `lost the connection to the database (${reason}); running it again on a new connection in ${(wait / 1000).toFixed(1)} s (retry ${attempt + 1} of ${retries})`);
        try {
          await sleep(wait, undefined, { signal: opts.signal });
        } catch {
          throw new CancelledError();
        }
      }
    }
  };

  const execute = async (id: string): Promise<TaskOutcome> => {
    const node = manifest.nodes[id];
    const threadId = `Thread-${(threadSeq++ % concurrency) + 1}`;
    const startedAt = nowIso();
    const t0 = performance.now();
    let c = compiled.get(id);
    const base = {
      unique_id: id,
      thread_id: threadId,
      compiled_code: c?.compiledCode ?? null,
      relation_name: node.relation_name,
      batch_results: null,
    };
    /** The node's compiled form: from the up-front pass, or compiled now on `conn`. */
    const compiledOn = async (conn: Connection): Promise<CompiledNode | undefined> => {
      if (c || !opts.compileAtRunTime || node.resource_type === 'seed') return c;
      c = await opts.compileAtRunTime(id, conn, threadId);
      base.compiled_code = c.compiledCode;
      return c;
    };
    opts.reporter.nodeStarted?.(node, counter + 1, total);
    try {
      if (node.resource_type === 'test') {
        return await runTest(node, c, compiledOn, base, startedAt, t0);
      }
      if (node.resource_type === 'snapshot') {
        throw new TsdbtError('unsupported-snapshot', `snapshots are not supported yet (${node.name})`, {
          file: node.original_file_path,
          hint: 'exclude it with --exclude resource_type:snapshot',
          kind: 'runtime',
        });
      }
      const res = await onConnection(node, async (conn: Connection) => {
        const cc = await compiledOn(conn);
        return materialize({
          conn,
          adapter,
          relation: { database: node.database, schema: node.schema, identifier: node.alias },
          sql: cc?.compiledCode ?? '',
          config: node.config,
          fullRefresh: opts.fullRefresh,
          rebuiltLater: rebuiltLater(id),
          preHooks: cc?.preHooks,
          postHooks: cc?.postHooks,
          renderHook: opts.renderHookAtRunTime ? (template, hookConn) => opts.renderHookAtRunTime!(id, template, hookConn, threadId) : undefined,
          seed: node.resource_type === 'seed' ? { file: node.seed_file!, displayPath: node.original_file_path } : undefined,
        });
      });
      writeRunFile(node, res.statements);
      for (const w of res.warnings ?? []) opts.reporter.nodeWarning?.(node, w);
      record(node, {
        ...base,
        status: 'success',
        timing: [{ name: 'execute', started_at: startedAt, completed_at: nowIso() }],
        execution_time: (performance.now() - t0) / 1000,
        adapter_response: { _message: res.message, code: res.message.split(' ')[0], rows_affected: res.rowsAffected ?? -1 },
        message: res.message,
        failures: null,
      } as NodeResult);
      return 'ok';
    } catch (e) {
      const message = describeNodeError(e, node, c?.compiledCode);
      record(
        node,
        {
          ...base,
          status: 'error',
          timing: [{ name: 'execute', started_at: startedAt, completed_at: nowIso() }],
          execution_time: (performance.now() - t0) / 1000,
          adapter_response: {},
          message,
          failures: null,
        } as NodeResult,
        { error: message },
      );
      return 'fail';
    }
  };

  const runTest = async (
    node: ManifestNode,
    known: CompiledNode | undefined,
    compiledOn: (conn: Connection) => Promise<CompiledNode | undefined>,
    base: Record<string, unknown>,
    startedAt: string,
    t0: number,
  ): Promise<TaskOutcome> => {
    // A test whose SQL asks the database compiles on a connection first (then runs as any other).
    const c = known ?? (await onConnection(node, compiledOn))!;
    const config = node.config;
    const statements: string[] = [];
    let countSql = c.compiledCode;
    const store = resolveStoreFailures(config as { store_failures?: boolean | null }, opts.storeFailures ?? false);
    if (store.store) {
      // Failing rows are kept in <target schema>_dbt_test__audit, replaced each run (as dbt's store_failures).
      const plan = await storeFailures(adapter, { schema: auditSchemaName(opts.targetSchema), identifier: node.alias }, c.compiledCode, {
        limit: (config.limit as number | null | undefined) ?? null,
        as: store.as,
      });
      statements.push(...plan.statements);
      countSql = plan.mainSql;
    }
    const wrapped = wrapTestSql(countSql, {
      fail_calc: config.fail_calc as string | undefined,
      warn_if: config.warn_if as string | undefined,
      error_if: config.error_if as string | undefined,
      limit: (config.limit as number | null | undefined) ?? null,
    });
    statements.push(wrapped);
    const { row, failingRows } = await onConnection(node, async (conn) => {
      const r = await conn.query(wrapped);
      const row = r.rows[0] as unknown as TestResultRow;
      let failingRows: Record<string, unknown>[] | undefined;
      if (Number(row.failures) > 0) {
        const sample = await conn.query(failingRowsSql(countSql, 5, (config.limit as number | null | undefined) ?? null)).catch(() => null);
        failingRows = sample?.rows as Record<string, unknown>[] | undefined;
      }
      return { row, failingRows };
    });
    writeRunFile(node, statements);
    const outcome = testResult(row, config as TestRunConfig, { warnError: opts.warnError });
    const status = outcome.status;
    const failures = outcome.failures;
    const message = outcome.message;
    record(
      node,
      {
        ...base,
        status,
        timing: [{ name: 'execute', started_at: startedAt, completed_at: nowIso() }],
        execution_time: (performance.now() - t0) / 1000,
        adapter_response: { _message: 'SELECT 1', code: 'SELECT', rows_affected: 1 },
        message,
        failures,
      } as NodeResult,
      { failingRows },
    );
    return status === 'fail' ? 'fail' : status === 'warn' ? 'warn' : 'ok';
  };

  await runTasks(
    tasks,
    { concurrency, failFast: opts.failFast, signal: opts.signal },
    {
      execute,
      skip: (id, cause) => {
        const node = manifest.nodes[id];
        const causeNode = cause ? manifest.nodes[cause] : null;
        record(
          node,
          {
            unique_id: id,
            status: 'skipped',
            thread_id: 'main',
            timing: [],
            execution_time: 0,
            adapter_response: {},
            message: opts.signal?.aborted ? 'SKIP (cancelled)' : causeNode ? `SKIP because ${causeNode.name} failed` : 'SKIP (fail fast)',
            failures: null,
            compiled_code: compiled.get(id)?.compiledCode ?? null,
            relation_name: node.relation_name,
            batch_results: null,
          } as NodeResult,
          { skippedBecause: cause },
        );
      },
    },
  );
  return selected.map((id) => results.get(id)!).filter(Boolean);
}
