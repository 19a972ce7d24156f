/**
 * Runs `on-run-start` / `on-run-end` hooks (operation nodes, see
 * src/parse/run-hooks.ts) as dbt's `RunTask.safe_run_hooks`:
 *  - one after the other on one connection, outside any transaction;
 *  - each rendered just before it runs (its package's context; on-run-end
 *    gets `results`, `schemas` and `database_schemas`);
 *  - a failing hook is an `error` result ("<pkg>.on-run-start.<i> failed,
 *    error: …"), the hooks after it are `skipped`; the nodes still run, and
 *    on-run-end still runs (dbt's default, `skip_nodes_if_on_run_start_fails`
 *    false);
 *  - each hook is one result in run_results.json (thread `main`, timing
 *    `compile` + `execute`, failures 0 / 1).
 * A template error in a hook is not a result: it is thrown (dbt raises a
 * CompilationError and the invocation stops).
 */
import { TsdbtError } from '../errors.ts';
import type { Adapter, Connection } from '../adapters/adapter.ts';
import type { Manifest, ManifestNode } from '../parse/manifest.ts';
import type { RunHookNode, RunHookType } from '../parse/run-hooks.ts';
import type { NodeResult } from '../artifacts/index.ts';
import { isCancellation } from './faults.ts';

/** Where hook progress goes (the CLI's Console fits). */
export interface HookReporter {
  info(text: string): void;
  error(text: string): void;
  /** dbt's LogHookStartLine / LogHookEndLine laid out by the console; without it, `info` gets an 80-column line. */
  hookLine?(msg: string, status: string, index: number, total: number, executionTime?: number, level?: 'info' | 'error'): void;
}

export interface RunHooksOptions {
  readonly type: RunHookType;
  /** The hooks of `type`, in run order. */
  readonly hooks: readonly RunHookNode[];
  readonly adapter: Adapter;
  /** Renders a hook on the connection it runs on (Compiler.renderRunHook). */
  readonly render: (hook: RunHookNode, extra: Record<string, unknown>, conn: Connection) => Promise<string>;
  /** Context members added for the render (on-run-end: {@link onRunEndContext}). */
  readonly extra?: Record<string, unknown>;
  readonly reporter: HookReporter;
  readonly signal?: AbortSignal;
}

/** dbt's name for a hook in messages: `<package>.on-run-start.<index>`. */
export function hookStatementName(hook: RunHookNode): string {
  return `${hook.package_name}.${hook.hook_type}.${hook.index}`;
}

const WIDTH = 80;
const dots = (left: string, right: string) => `${left} ${'.'.repeat(Math.max(3, WIDTH - left.length - right.length - 2))} ${right}`;

/**
 * Runs `opts.hooks`; resolves to one result per hook (empty when there are
 * none). Never throws for a failing statement (that is the hook's result);
 * throws the TsdbtError of a template error.
 */
export async function runProjectHooks(opts: RunHooksOptions): Promise<NodeResult[]> {
  const { hooks, reporter } = opts;
  if (!hooks.length) return [];
  const total = hooks.length;
  reporter.info(`Running ${total} ${opts.type} hook${total === 1 ? '' : 's'}`);
  const results: NodeResult[] = [];
  await opts.adapter.withConnection(async (conn) => {
    let failed = false;
    for (const [i, hook] of hooks.entries()) {
      const name = hookStatementName(hook);
      const pos = `${i + 1} of ${total}`;
      if (failed || opts.signal?.aborted) {
        results.push(hookResult(hook, 'skipped', `${name} skipped`, [], 0, 1, null));
        if (reporter.hookLine) reporter.hookLine(`SKIP hook: ${name}`, 'SKIP', i + 1, total);
        else reporter.info(dots(`${pos} SKIP hook: ${name}`, '[SKIP]'));
        continue;
      }
      reporter.hookLine?.(`START hook: ${name}`, 'RUN', i + 1, total);
      const compileStart = new Date().toISOString();
      const t0 = performance.now();
      // A syntax error found in the rendered hook (src/sql, checked when rendered) fails the hook as the database would.
      const rendered = await opts.render(hook, opts.extra ?? {}, conn).catch((e: unknown) => {
        if (e instanceof TsdbtError && e.code === 'sql-syntax') return e;
        throw e;
      });
      const sql = typeof rendered === 'string' ? hookSql(rendered) : '';
      const compileEnd = new Date().toISOString();
      let status: 'success' | 'error' = 'success';
      let message: string;
      try {
        if (typeof rendered !== 'string') throw new Error(rendered.format());
        if (sql.trim()) await conn.query(sql);
        message = `${name} passed`;
      } catch (e) {
        if (isCancellation(e)) throw e;
        status = 'error';
        failed = true;
        message = `${name} failed, error:\n ${e instanceof Error ? e.message : String(e)}`;
      }
      const secs = (performance.now() - t0) / 1000;
      const timing = [
        { name: 'compile', started_at: compileStart, completed_at: compileEnd },
        { name: 'execute', started_at: compileEnd, completed_at: new Date().toISOString() },
      ];
      results.push(hookResult(hook, status, message, timing, secs, status === 'success' ? 0 : 1, sql));
      if (reporter.hookLine) reporter.hookLine(`${status === 'success' ? 'OK' : 'ERROR'} hook: ${name}`, status === 'success' ? 'OK' : 'ERROR', i + 1, total, secs, status === 'success' ? 'info' : 'error');
      else if (status === 'success') reporter.info(dots(`${pos} OK hook: ${name}`, `[OK in ${secs.toFixed(2)}s]`));
      if (status !== 'success') {
        if (!reporter.hookLine) reporter.info(dots(`${pos} ERROR hook: ${name}`, `[ERROR in ${secs.toFixed(2)}s]`));
        reporter.error(`    ${hook.name} (${hook.original_file_path}): ${message.replace(/\n/g, '\n    ')}`);
      }
    }
  });
  reporter.info('');
  return results;
}

/** A rendered hook may be dbt's JSON form `{"sql": …, "transaction": …}` (dbt's get_hook): its SQL. */
function hookSql(rendered: string): string {
  const t = rendered.trim();
  if (t.startsWith('{') && t.endsWith('}')) {
    try {
      const v = JSON.parse(t) as { sql?: unknown };
      if (v && typeof v === 'object' && typeof v.sql === 'string') return v.sql;
    } catch {
      /* plain SQL that happens to start with a brace */
    }
  }
  return rendered;
}

function hookResult(hook: RunHookNode, status: NodeResult['status'], message: string, timing: NodeResult['timing'], secs: number, failures: number, sql: string | null): NodeResult {
  return {
    unique_id: hook.unique_id,
    status,
    timing,
    thread_id: 'main',
    execution_time: secs,
    adapter_response: {},
    message,
    failures,
    compiled: sql !== null,
    compiled_code: sql === null ? null : sql,
    relation_name: null,
    batch_results: null,
  };
}

/** A node as `result.node` shows it in on-run-end (the main fields of dbt's node). */
function nodeForTemplates(n: ManifestNode, compiledCode: string | null): Record<string, unknown> {
  return {
    unique_id: n.unique_id,
    name: n.name,
    resource_type: n.resource_type,
    package_name: n.package_name,
    path: n.path,
    original_file_path: n.original_file_path,
    fqn: n.fqn,
    config: n.config,
    tags: n.tags,
    meta: n.meta,
    database: n.database,
    schema: n.schema,
    alias: n.alias,
    identifier: n.alias,
    relation_name: n.relation_name,
    description: n.description,
    columns: n.columns,
    depends_on: n.depends_on,
    compiled_code: compiledCode,
    raw_code: n.raw_code,
  };
}

/**
 * The on-run-end context, as dbt's `RunTask.after_run`:
 *  - `results`: the invocation's results except on-run-start hooks that did
 *    not error, each with `node`, `status`, `message`, `thread_id`,
 *    `execution_time`, `adapter_response`, `failures`, `timing`;
 *  - `database_schemas`: `[database, schema]` of every model, seed or
 *    snapshot (dbt's is_relational) whose result is not error, fail or skipped;
 *  - `schemas`: those schemas alone.
 */
export function onRunEndContext(results: readonly NodeResult[], manifest: Manifest, hooks: readonly RunHookNode[]): Record<string, unknown> {
  const hookById = new Map(hooks.map((h) => [h.unique_id, h as ManifestNode]));
  const nodeOf = (id: string): ManifestNode | undefined => manifest.nodes[id] ?? hookById.get(id);
  const pairs = new Map<string, [string, string]>();
  for (const r of results) {
    const n = manifest.nodes[r.unique_id];
    if (!n || !['model', 'seed', 'snapshot'].includes(n.resource_type)) continue;
    if (r.status === 'error' || r.status === 'fail' || r.status === 'skipped') continue;
    pairs.set(`${n.database}\u0000${n.schema}`, [n.database, n.schema]);
  }
  // dbt leaves out hooks that did not error ("thread main"); tsdbt's skipped nodes are on `main` too, and stay.
  const shown = results.filter((r) => manifest.nodes[r.unique_id] || r.status === 'error');
  return {
    results: shown.map((r) => {
      const n = nodeOf(r.unique_id);
      return {
        node: n ? nodeForTemplates(n, r.compiled_code ?? null) : { unique_id: r.unique_id },
        unique_id: r.unique_id,
        status: r.status,
        message: r.message,
        thread_id: r.thread_id,
        execution_time: r.execution_time,
        adapter_response: r.adapter_response,
        failures: r.failures,
        timing: r.timing,
      };
    }),
    schemas: [...new Set([...pairs.values()].map(([, s]) => s))],
    database_schemas: [...pairs.values()],
  };
}
