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
import { TsdbtError } from '../errors.ts';
import type { Adapter, Connection } from '../adapters/adapter.ts';
import { DatabaseError } from '../adapters/adapter.ts';
import type { Manifest, ManifestNode } from '../parse/manifest.ts';
import type { CompiledNode } from '../compile/compile.ts';
import type { ProjectConfig } from '../config/types.ts';
import type { NodeResult } from '../artifacts/index.ts';
import { runTasks, type TaskOutcome } from './scheduler.ts';
import { createNodeSession } from './node-session.ts';
import { RUNNERS, unsupportedRunner, type RunnerOptions } from './runners.ts';
import type { ExecutionPlan } from './plan.ts';
import { isRetrySafe, lostCitusWorker, RelationCache } from '../materializations/index.ts';
import { isCancellation, isConnectionLost, isReadOnly, isStatementTimeout, resourceExhausted, CANCELLED_MESSAGE } from './faults.ts';

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
  /** Runs a unit test on `conn` (the plan's unit_test nodes; see src/unittests). */
  readonly runUnitTest?: RunnerOptions['runUnitTest'];
  /** User-defined `{% materialization %}` macros (see runners.ts). */
  readonly customMaterializations?: RunnerOptions['customMaterializations'];
}

/** Node types each command executes. */
export const COMMAND_RESOURCE_TYPES: Record<RunCommand, readonly string[]> = {
  run: ['model'],
  seed: ['seed'],
  test: ['test', 'unit_test'],
  snapshot: ['snapshot'],
  build: ['model', 'seed', 'test', 'snapshot', 'unit_test'],
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
 * run_results.json): dbt's "Database Error in model x (path)"
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
    return (
      `Timeout in ${what}: a statement ran longer than ${which} and was cancelled (${dbMessage}). Nothing was half-built: the previous relation is unchanged.\n` +
        `  hint: ${limit !== null ? 'raise query_timeout in the config of the model' : 'set a larger statement_timeout for this role, or a query_timeout in the config of the model'}, or make the query faster`
    );
  }
  if (isConnectionLost(e)) {
    const kept = isRetrySafe(e)
      ? 'Nothing was changed: the previous relation is intact.'
      : "The connection dropped while the model's incremental transaction was committing: check whether the new rows are in before running it again.";
    const worker = lostCitusWorker(e);
    if (worker) {
      return (
        `A Citus worker node (${worker}) could not be reached in ${what}: ${dbMessage}. ${kept}\n` +
          `  hint: start the worker at ${worker} again (the coordinator's pg_dist_node lists the nodes), then run \`tsdbt retry\` to rebuild what failed or was skipped`
      );
    }
    return (
      `Lost the connection to the database in ${what}: ${dbMessage}. ${kept}\n` +
        '  hint: the server restarted or the session was terminated (pg_terminate_backend); run `tsdbt retry` to rebuild what failed or was skipped, or set `retries: N` in the profile to retry automatically'
    );
  }
  if (isReadOnly(e)) {
    return (
      `Read-only database in ${what}: ${dbMessage}. The server accepts no writes in this session (a standby after a failover, or default_transaction_read_only is on for the role or database). Nothing was changed: the previous relation is intact.\n` +
        '  hint: point the profile at the primary server, or turn default_transaction_read_only off (ALTER ROLE … / ALTER DATABASE … SET default_transaction_read_only = off), then run `tsdbt retry`'
    );
  }
  const exhausted = resourceExhausted(e);
  if (exhausted) {
    const hint = {
      disk: 'free disk space on the database server (or move data to another tablespace)',
      temp_file_limit: "raise temp_file_limit for this role, or make the query spill less to disk (filter earlier, raise work_mem)",
      memory: 'make the query use less memory (lower work_mem, fewer rows per statement) or give the server more',
    }[exhausted];
    const what2 = { disk: 'the server ran out of disk space', temp_file_limit: 'a statement exceeded temp_file_limit', memory: 'the server ran out of memory' }[exhausted];
    return (
      `Out of resources in ${what}: ${what2} (${dbMessage}). The statement was rolled back; nothing was half-built: the previous relation is intact.\n` +
        `  hint: ${hint}, then run \`tsdbt retry\``
    );
  }
  if (e instanceof TsdbtError) return e.format();
  if (e instanceof DatabaseError) {
    const parts = [`Database Error in ${what}`, `  ${e.message}`];
    const at = errorLocation(e, node, compiledCode);
    if (at) parts.push(`  ${at}`);
    if (e.detail) parts.push(`  DETAIL: ${e.detail}`);
    if (e.hint) parts.push(`  HINT: ${e.hint}`);
    return parts.join('\n');
  }
  return `Error in ${what}: ${dbMessage}`;
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
  // Jinja drops one trailing newline (keep_trailing_newline is off, as in dbt), so compare without it.
  const lines = (t: string) => t.replace(/\r\n?/g, '\n').replace(/\n$/, '').split('\n').length;
  const sameLines = typeof raw === 'string' && lines(raw) === lines(compiled);
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
  /** Relations of selected models downstream of `id`, with a view model's new SQL: the swap recreates a stale view from it (dependents.ts). */
  const rebuiltLater = (id: string) => {
    const out: { schema: string; identifier: string; sql?: string }[] = [];
    const seen = new Set<string>();
    const stack = [...(manifest.child_map[id] ?? [])];
    while (stack.length) {
      const c = stack.pop()!;
      if (seen.has(c)) continue;
      seen.add(c);
      const n = manifest.nodes[c];
      if (!n) continue;
      if (selectedSet.has(c) && n.resource_type === 'model' && n.config.materialized !== 'ephemeral') {
        const sql = n.config.materialized === 'view' ? compiled.get(c)?.compiledCode : undefined;
        out.push({ schema: n.schema, identifier: n.alias, ...(sql !== undefined ? { sql } : {}) });
      }
      stack.push(...(manifest.child_map[c] ?? []));
    }
    return out;
  };

  const record = (node: ManifestNode, r: NodeResult, detail?: NodeDetail) => {
    results.set(node.unique_id, r);
    opts.reporter.nodeFinished(node, r, ++counter, total, detail);
  };

  const session = createNodeSession({
    adapter,
    project: opts.project,
    signal: opts.signal,
    retries: opts.retries,
    retryDelayMs: opts.retryDelayMs,
    warn: (node, message) => opts.reporter.nodeWarning?.(node, message),
  });
  const runnerOptions: RunnerOptions = {
    adapter,
    fullRefresh: opts.fullRefresh,
    warnError: opts.warnError,
    storeFailures: opts.storeFailures ?? false,
    targetSchema: opts.targetSchema,
    rebuiltLater,
    renderHookAtRunTime: opts.renderHookAtRunTime,
    runUnitTest: opts.runUnitTest,
    customMaterializations: opts.customMaterializations,
    relationCache: new RelationCache(),
    modelRelation: (name) => {
      const n = Object.values(manifest.nodes).find((x) => x.resource_type === 'model' && x.name === name && x.config.enabled !== false);
      return n ? { schema: n.schema, identifier: n.alias } : undefined;
    },
  };

  /** Runs one node with the runner of its resource type; any error becomes the node's result. */
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
    const timing = () => [{ name: 'execute', started_at: startedAt, completed_at: nowIso() }];
    try {
      const runner = RUNNERS[node.resource_type] ?? unsupportedRunner;
      const r = await runner({ node, threadId, compiled: c, compiledOn, session, options: runnerOptions });
      for (const w of r.warnings ?? []) opts.reporter.nodeWarning?.(node, w);
      record(
        node,
        {
          ...base,
          ...(r.compiledCode !== undefined ? { compiled_code: r.compiledCode } : {}),
          status: r.status,
          timing: timing(),
          execution_time: (performance.now() - t0) / 1000,
          adapter_response: r.adapterResponse,
          message: r.message,
          failures: r.failures ?? null,
        } as NodeResult,
        r.detail,
      );
      return r.outcome;
    } catch (e) {
      const message = describeNodeError(e, node, c?.compiledCode);
      record(
        node,
        {
          ...base,
          status: 'error',
          timing: timing(),
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
  await session.runFilesWritten();
  return selected.map((id) => results.get(id)!).filter(Boolean);
}
