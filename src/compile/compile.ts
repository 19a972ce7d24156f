/**
 * Manifest → CompiledGraph: renders each selected node's SQL with refs and
 * sources resolved to real relations (dbt's compile phase: `execute` is
 * true), inlines ephemeral models as CTEs (`__dbt__cte__<name>`, as dbt),
 * and builds generic tests' SQL from their test macros.
 *
 * Two passes, as dbt compiles each node just before it runs (see README.md):
 *  - up front, without a database: every node whose templates ask the
 *    database nothing is compiled here, so their errors are all reported
 *    before any statement runs; a node whose render reaches `run_query`,
 *    `adapter.get_columns_in_relation`, `statement` … is set aside;
 *  - at run time, {@link Compiler.compileAtRunTime} compiles a set-aside node
 *    on the connection it will be built on, once its parents are built
 *    (database calls answered by replay, see live.ts).
 *
 * The relation state it needs up front (which relations exist, for
 * `is_incremental()`) is passed in.
 */
import { Diagnostics, TsdbtError } from '../errors.ts';
import type { NodeConfig, TargetConfig } from '../config/types.ts';
import { envVar, resolveVar } from '../config/index.ts';
import type { ParseResult } from '../parse/parse-project.ts';
import type { Manifest, ManifestNode, RefCall, UnitTestDefinition } from '../parse/manifest.ts';
import { JinjaRelation } from '../parse/relation.ts';
import { buildContext, type Captured, type ContextHooks } from '../parse/jinja-context.ts';
import { staticExtract, substituteCalls, type StaticCall } from '../parse/static-extract.ts';
import { lookupKeys, refKey } from '../parse/model-versions.ts';
import { NameLookup } from '../parse/ref-lookup.ts';
import type { ProjectConfig } from '../config/types.ts';
import { assertModelIsSelect, firstToken } from './model-statement.ts';
import { ReplayLog, findNeedsDatabase, renderWithDatabase, type LiveDatabase } from './live.ts';
import { flatGraph, runContextMembers } from './run-context.ts';
import { MACRO_OVERRIDES } from '../jinja/jinja-env.ts';

/** One compiled node: its SQL with every ref resolved and ephemeral CTEs inlined. */
export interface CompiledNode {
  readonly uniqueId: string;
  readonly compiledCode: string;
  /** Project-relative path under target/, e.g. `target/compiled/proj/models/a.sql`. */
  readonly compiledPath: string;
  /** Whether `is_incremental()` was true when this node was compiled. */
  readonly incremental: boolean;
  /**
   * The `pre_hook` config, each rendered with the node's context (`{{ this }}`
   * is the node); absent when none. A hook whose template asks the database
   * is kept as `{ template }` and rendered when the materialization reaches it
   * (dbt renders hooks just before running each), on the node's connection.
   */
  readonly preHooks?: readonly HookSql[];
  /** The `post_hook` config, rendered as `preHooks`. */
  readonly postHooks?: readonly HookSql[];
  /** `pre_hook`s with `transaction: false` (dbt's `before_begin()`), run before the node's statements, outside a transaction. */
  readonly beforeBeginHooks?: readonly HookSql[];
  /** `post_hook`s with `transaction: false` (dbt's `after_commit()`), run after the node's transaction commits. */
  readonly afterCommitHooks?: readonly HookSql[];
  /**
   * A data test's config as it runs: the node's, with what the test macro set
   * through `config()` while compiling over it (dbt_utils' equal_rowcount sets
   * `fail_calc` that way, as dbt captures it). Absent when the macro set nothing.
   */
  readonly config?: NodeConfig;
}

/** A hook's SQL, or its template when it can only be rendered on the connection, just before it runs. */
export type HookSql = string | { readonly template: string };

/** unique_id → compiled node, for the nodes that were asked for. */
export type CompiledGraph = ReadonlyMap<string, CompiledNode>;

/** Kinds of relations that exist now, keyed by `schema.identifier` (as the database spells them). */
export type RelationState = ReadonlyMap<string, 'table' | 'view' | string>;

export interface CompileOptions {
  readonly project: ProjectConfig;
  readonly parsed: ParseResult;
  readonly target: TargetConfig;
  readonly cliVars: Record<string, unknown>;
  readonly invocationId: string;
  readonly fullRefresh: boolean;
  readonly relations: RelationState;
  readonly env?: NodeJS.ProcessEnv;
  /**
   * `--defer --state DIR`: the state manifest. A `ref()` to a model, seed or
   * snapshot that is not among the compiled `ids` (not selected) and whose
   * relation does not exist in `relations` resolves to that node's relation
   * in this manifest instead, as dbt's deferral (dbt decides at run time
   * whether the relation exists; tsdbt compiles first, so selected nodes,
   * built earlier in the same run, are never deferred). Ephemeral models and
   * `{{ this }}` are never deferred.
   */
  readonly deferTo?: Manifest | null;
  /**
   * `--favor-state` (dbt's RuntimeRefResolver.create_relation): with
   * `deferTo`, a ref() to a node that is not selected resolves to the state
   * manifest's relation even when the node's own relation exists here.
   */
  readonly favorState?: boolean;
  /** unique_ids selected in this invocation (`selected_resources`); default: the ids compiled. */
  readonly selected?: readonly string[];
  /** Where `log(msg, info=True)`, `print()` and `print_table()` write; default: nowhere. */
  readonly onLog?: (msg: string, info: boolean, kind?: 'print') => void;
  /** Progress of the up-front pass: nodes rendered of how many (the console's progress line throttles it). */
  readonly onProgress?: (what: string, done: number, total: number) => void;
  /** dbt's `flags` (`WHICH`, `FULL_REFRESH`, `STORE_FAILURES`, …) as templates see them. */
  readonly flags?: Record<string, unknown>;
  /**
   * `--empty`: every ref() and source() renders as `(select * from x where
   * false limit 0) _dbt_limit_subq_x` (dbt's relation limit 0), so nodes build
   * their schema with no rows. `{{ this }}` and ephemeral CTEs are unchanged.
   */
  readonly empty?: boolean;
}

/** The up-front pass's result: compiled nodes, and the ones that must compile at run time. */
export interface UpFrontCompile {
  readonly compiled: Map<string, CompiledNode>;
  /** unique_ids whose templates ask the database: compile them with {@link Compiler.compileAtRunTime}. */
  readonly atRunTime: ReadonlySet<string>;
}

const COMPILABLE = new Set(['model', 'test', 'analysis', 'snapshot']);
/** Node types a ref() can point at, hence deferrable. */
const DEFERRABLE = new Set(['model', 'seed', 'snapshot']);

/** The CTE name dbt gives an ephemeral model. */
export function cteName(node: Pick<ManifestNode, 'name'>): string {
  return `__dbt__cte__${node.name}`;
}

/**
 * Compiles `ids` (and, transitively, the ephemeral models they use) without a
 * database. A node that asks the database is an error here: use
 * {@link Compiler} where a connection is available.
 * @throws TsdbtError / CompileErrors listing every node that failed to compile.
 */
export function compileNodes(opts: CompileOptions, ids: Iterable<string>): Map<string, CompiledNode> {
  const c = new Compiler(opts, ids);
  const { compiled, atRunTime } = c.compileUpFront();
  if (atRunTime.size) {
    const first = opts.parsed.manifest.nodes[[...atRunTime][0]];
    throw new TsdbtError('needs-database', `${first.resource_type} ${first.name} asks the database while compiling (run_query, adapter introspection, statement), and no connection is open here`, {
      file: first.original_file_path,
      hint: 'compile it with a connection (tsdbt compile / run connect to the target)',
    });
  }
  return compiled;
}

/**
 * Compiles one invocation's nodes: {@link compileUpFront} for every node that
 * needs no database, {@link compileAtRunTime} for the others, on the
 * connection they run on. One per invocation (it caches rendered relations
 * and ephemeral bodies).
 */
export class Compiler {
  /** Up-front pass over the ids given to the constructor. @throws CompileErrors (every static error at once). */
  readonly compileUpFront: () => UpFrontCompile;
  /**
   * Compiles one node on `db` (run time: its parents are built). Database
   * calls in its templates run on `db`, each once.
   * @throws TsdbtError for a template error, or the DatabaseError of a call.
   */
  readonly compileAtRunTime: (uniqueId: string, db: LiveDatabase, threadId?: string) => Promise<CompiledNode>;
  /**
   * Renders a hook kept as `{ template }` (see {@link HookSql}) on `db`, just
   * before it runs. @throws TsdbtError, or a call's DatabaseError.
   */
  readonly renderHookAtRunTime: (uniqueId: string, template: string, db: LiveDatabase, threadId?: string) => Promise<string>;
  /** A unit test's actual SQL on `db` (see makeCompiler's compileUnitTest and src/unittests). */
  readonly compileUnitTest: (def: UnitTestDefinition, inputs: readonly UnitTestInputSql[], db: LiveDatabase, threadId?: string) => Promise<string>;
  /**
   * Renders an `on-run-start` / `on-run-end` hook node (an `operation` node,
   * see parse/run-hooks.ts) on `db` just before it runs, as dbt compiles a
   * HookNode: its package's context, with `extra` over it (dbt's on-run-end
   * `results` / `schemas` / `database_schemas`).
   * @throws TsdbtError for a template error, or a call's DatabaseError.
   */
  readonly renderRunHook: (hook: ManifestNode, extra: Record<string, unknown>, db: LiveDatabase) => Promise<string>;
  /**
   * Calls macro `macro` (`name` or `package.name`) with `kwargs` on `db`, in
   * the run-time context of the operation node `node` (dbt's run-operation:
   * adapter.execute_macro). `beforeRender` is called before each render
   * (database calls replay, see live.ts: output of earlier renders is stale).
   * @returns the macro's output or return() value.
   * @throws TsdbtError for a template error, or a call's DatabaseError.
   */
  readonly callMacroAtRunTime: (node: ManifestNode, macro: string, kwargs: Record<string, unknown>, db: LiveDatabase, beforeRender?: () => void) => Promise<unknown>;
  /**
   * Runs `fn` with the node's run-time context (what {@link compileAtRunTime} renders
   * with) to completion on `db`, replaying as live.ts does: `extend(ctx, log)` adds
   * members first (a materialization's `sql`, `run_hooks`, …). Used by custom
   * materializations (src/materializations/custom.ts), as dbt's ModelRunner calls the
   * materialization macro with its MaterializationContext.
   * @throws TsdbtError for a template error, or a call's DatabaseError.
   */
  readonly runInContextAtRunTime: <T>(uniqueId: string, db: LiveDatabase, threadId: string | undefined, fn: (ctx: Record<string, unknown>, log: ReplayLog) => T) => Promise<T>;

  constructor(opts: CompileOptions, ids: Iterable<string>) {
    const impl = makeCompiler(opts, ids);
    this.compileUpFront = impl.compileUpFront;
    this.compileAtRunTime = impl.compileAtRunTime;
    this.renderHookAtRunTime = impl.renderHookAtRunTime;
    this.compileUnitTest = impl.compileUnitTest;
    this.renderRunHook = impl.renderRunHook;
    this.callMacroAtRunTime = impl.callMacroAtRunTime;
    this.runInContextAtRunTime = impl.runInContextAtRunTime;
  }
}

function makeCompiler(opts: CompileOptions, ids: Iterable<string>) {
  const { parsed, target } = opts;
  const manifest = parsed.manifest;
  const env = opts.env ?? process.env;
  const diags = new Diagnostics();
  const runStartedAt = new Date();
  // ref() and source() resolve across the root project and its packages in dbt's order (parse/ref-lookup.ts);
  // ref() lookup keys are names, and `name.v<version>` for versioned models (the latest version also by name).
  const refLookup = new NameLookup();
  const sourceLookup = new NameLookup();
  for (const n of Object.values(manifest.nodes)) {
    if (n.resource_type === 'model' || n.resource_type === 'seed' || n.resource_type === 'snapshot') for (const k of lookupKeys(n)) refLookup.add(k, n.package_name, n.unique_id);
  }
  for (const src of Object.values(manifest.sources)) sourceLookup.add(`${src.source_name}.${src.name}`, src.package_name, src.unique_id);
  const rootProject = manifest.metadata.project_name ?? opts.project.name;
  const refTarget = (call: Pick<RefCall, 'name' | 'package' | 'version'>, from: ManifestNode): ManifestNode | undefined => {
    const uid = refLookup.resolve(refKey(call.name, call.version), call.package, rootProject, from.package_name);
    return uid === undefined ? undefined : manifest.nodes[uid];
  };
  const sourceOf = (s: string, t: string, from: ManifestNode) => {
    const uid = sourceLookup.resolve(`${s}.${t}`, null, rootProject, from.package_name);
    return uid === undefined ? undefined : manifest.sources[uid];
  };

  const relationOf = (n: ManifestNode): JinjaRelation =>
    n.config.materialized === 'ephemeral'
      ? new JinjaRelation({ identifier: cteName(n) }, undefined, true)
      : new JinjaRelation({ database: n.database, schema: n.schema, identifier: n.alias, type: kindOf(n) });
  const kindOf = (n: ManifestNode): string | null => opts.relations.get(`${n.schema}.${n.alias}`) ?? null;
  const idList = [...ids];
  const selectedIds = new Set(idList);
  /** The state manifest's node that a ref() to `n` resolves to under `--defer`, else null. */
  const deferredOf = (n: ManifestNode): ManifestNode | null => {
    const state = opts.deferTo;
    if (!state || selectedIds.has(n.unique_id) || n.config.materialized === 'ephemeral' || (kindOf(n) !== null && !opts.favorState)) return null;
    const other = state.nodes[n.unique_id];
    if (!other || other.config?.materialized === 'ephemeral' || !DEFERRABLE.has(other.resource_type)) return null;
    return other;
  };
  /** The relation `ref()` to `n` gives: its own, or the state manifest's under `--defer`. */
  const refRelationOf = (n: ManifestNode): JinjaRelation => {
    const d = deferredOf(n);
    return d ? new JinjaRelation({ database: d.database, schema: d.schema, identifier: d.alias }) : relationOf(n);
  };
  const isIncremental = (n: ManifestNode): boolean => {
    if (n.config.materialized !== 'incremental') return false;
    const fullRefresh = n.config.full_refresh ?? opts.fullRefresh;
    return kindOf(n) === 'table' && !fullRefresh;
  };

  const hooksFor = (node: ManifestNode): ContextHooks => ({
    ref: (call: RefCall) => {
      const target = refTarget(call, node);
      if (!target) {
        const what = refKey(call.name, call.version) === call.name ? `'${call.name}'` : `'${call.name}' with version '${call.version}'`;
        throw new TsdbtError('ref-not-found', `'${node.name}' refers to ${what}, which does not exist`, {
          file: node.original_file_path,
          hint: 'add `-- depends_on: {{ ref(...) }}` only for nodes that exist; check the name',
        });
      }
      if (!node.depends_on.nodes.includes(target.unique_id)) {
        throw new TsdbtError('ref-bad-context', `'${node.name}' calls ref('${call.name}') only at compile time, so the dependency was not recorded when parsing`, {
          file: node.original_file_path,
          hint: `add \`-- depends_on: {{ ref('${call.name}') }}\` to the top of ${node.original_file_path}`,
        });
      }
      return opts.empty ? refRelationOf(target).withLimit(0) : refRelationOf(target);
    },
    source: (s, t) => {
      const src = sourceOf(s, t, node);
      if (!src) throw new TsdbtError('source-not-found', `source('${s}', '${t}') is not declared`, { file: node.original_file_path });
      return new JinjaRelation({ database: src.database, schema: src.schema, identifier: src.identifier }, undefined, false, opts.empty ? 0 : null);
    },
    variable: (name, fallback, hasDefault) =>
      resolveVar(name, opts.project, opts.cliVars, node.package_name, {
        ...(hasDefault ? { default: fallback } : {}),
        packageProject: parsed.packageProjects?.get(node.package_name),
      }),
    envVar: (name, fallback, hasDefault) => envVar(env, name, hasDefault ? fallback : undefined, { file: node.original_file_path }),
    isIncremental: () => isIncremental(node),
  });

  // Shared by every node's context (copying 12,000 ids per node was most of the compile's garbage).
  const selectedForTemplates = Object.freeze([...(opts.selected ?? idList)]);
  const graphForTemplates = flatGraph(manifest);
  const onLog = opts.onLog ?? (() => {});
  const flags = opts.flags ?? { FULL_REFRESH: opts.fullRefresh, WHICH: 'run' };

  /** The node's Jinja context: dbt's parse-time context with the run-time members over it. */
  const contextFor = (node: ManifestNode, log: ReplayLog, hooks: ContextHooks = hooksFor(node), threadId?: string, captured?: Captured, self?: JinjaRelation): Record<string, unknown> => {
    const file = node.original_file_path;
    let ctx: Record<string, unknown> | undefined;
    const run = runContextMembers({
      log,
      selected: selectedForTemplates,
      graph: graphForTemplates,
      onLog,
      file,
      database: parsed.database,
      threadId,
      flags,
      render: (text) => parsed.jinja.render(text, ctx!, { file }),
    });
    ctx = buildContext({
      execute: true,
      target,
      targetDatabase: parsed.database,
      // As dbt: `project_name` is the root project's, for a package's nodes too.
      projectName: rootProject,
      invocationId: opts.invocationId,
      runStartedAt,
      fullRefresh: opts.fullRefresh,
      self: self ?? (node.resource_type === 'test' ? null : relationOf(node)),
      model: nodeDict(node),
      config: node.config,
      file,
      hooks,
      captured,
      dispatch: (name: string, ns: string | null) => parsed.jinja.dispatch(name, ns),
      adapterOverrides: run.adapter as Record<string, unknown>,
    });
    const adapter = ctx.adapter;
    return Object.assign(ctx, run, { adapter });
  };

  /** Bodies of nodes whose render asked the database nothing (reused by every node that inlines them). */
  const staticBodies = new Map<string, string>();

  /** The node's SQL before CTE injection. @throws TsdbtError, or NeedsDatabase (through the Jinja layer) */
  const renderBody = (node: ManifestNode, log: ReplayLog, threadId?: string, captured?: Captured): string => {
    const known = staticBodies.get(node.unique_id);
    if (known !== undefined) return known;
    const callsBefore = log.calls;
    let sql: string;
    const calls = parsed.staticCalls.get(node.unique_id);
    if (calls) sql = substituteCalls(node.raw_code, calls, (c: StaticCall) => staticRender(c, node));
    else if (node.test_metadata) sql = renderGenericTest(node, log, threadId, captured);
    else sql = parsed.jinja.render(node.raw_code, contextFor(node, log, undefined, threadId), { file: node.original_file_path });
    if (node.resource_type === 'model') assertModelIsSelect(node, sql);
    if (log.calls === callsBefore && !(captured && Object.keys(captured.config).length)) staticBodies.set(node.unique_id, sql);
    return sql;
  };

  const rendered = new Map<string, string>(); // unique_id → its relation as SQL text
  const renderedRefs = new Map<string, string>(); // unique_id → what ref() to it renders (under --defer)
  const renderedRelation = (n: ManifestNode): string => {
    let text = rendered.get(n.unique_id);
    if (text === undefined) rendered.set(n.unique_id, (text = relationOf(n).render()));
    return text;
  };
  const staticRender = (c: StaticCall, node: ManifestNode): string => {
    switch (c.kind) {
      case 'config':
        return '';
      case 'this':
        return renderedRelation(node);
      case 'ref': {
        const n = refTarget(c.ref, node)!;
        if (opts.empty) return refRelationOf(n).withLimit(0).render();
        if (!opts.deferTo) return renderedRelation(n);
        let text = renderedRefs.get(n.unique_id);
        if (text === undefined) renderedRefs.set(n.unique_id, (text = refRelationOf(n).render()));
        return text;
      }
      case 'source': {
        const src = sourceOf(c.source[0], c.source[1], node)!;
        return new JinjaRelation({ database: src.database, schema: src.schema, identifier: src.identifier }, undefined, false, opts.empty ? 0 : null).render();
      }
    }
  };

  /**
   * A relation for a `ref(...)` / `source(...)` call with literal arguments,
   * without a template render (the fast path for generic tests' kwargs);
   * undefined when `call` is anything else.
   */
  const literalCalls = new Map<string, ReturnType<typeof staticExtract>>();
  const literalRelation = (call: string, node: ManifestNode, hooks: ContextHooks): JinjaRelation | undefined => {
    let fast = literalCalls.get(call);
    if (fast === undefined) literalCalls.set(call, (fast = staticExtract(`{{ ${call} }}`)));
    if (!fast || fast.calls.length !== 1) return undefined;
    const c = fast.calls[0];
    if (c.kind === 'ref') return hooks.ref(c.ref);
    if (c.kind === 'source') return hooks.source(c.source[0], c.source[1]);
    return undefined;
  };

  const renderGenericTest = (node: ManifestNode, log: ReplayLog, threadId?: string, captured?: Captured): string => {
    const meta = node.test_metadata!;
    const hooks = hooksFor(node);
    const ctx = contextFor(node, log, hooks, threadId, captured);
    const kwargs: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(meta.kwargs)) {
      if (typeof v === 'string' && (k === 'model' || /^\s*(ref|source)\s*\(.*\)\s*$/s.test(v))) {
        // `{{ get_where_subquery(ref('x')) }}` and `ref('x')`: resolved directly when the arguments are literals
        const where = k === 'model' ? /^\{\{\s*get_where_subquery\(\s*((?:ref|source)\s*\([^()]*\))\s*\)\s*\}\}$/.exec(v) : null;
        const rel = k === 'model' ? (where ? literalRelation(where[1], node, hooks) : undefined) : literalRelation(v, node, hooks);
        // As dbt: a test macro receives Relation objects (packages check them, e.g. dbt_utils' _is_relation);
        // `model` is get_where_subquery's answer: the relation, or a `(select … where …) dbt_subquery` string.
        if (rel && k === 'model') {
          const m = parsed.jinja.callMacro('get_where_subquery', [rel], {}, ctx);
          kwargs[k] = m instanceof JinjaRelation ? m : String(m ?? '').trim();
        } else if (rel) kwargs[k] = rel;
        else kwargs[k] = parsed.jinja.render(k === 'model' ? v : `{{ ${v} }}`, ctx, { file: node.original_file_path }).trim();
      } else {
        kwargs[k] = v;
      }
    }
    const macro = meta.namespace ? `${meta.namespace}.test_${meta.name}` : `test_${meta.name}`;
    const result = parsed.jinja.callMacro(macro, [], kwargs, ctx);
    return String(result ?? '');
  };

  /**
   * The node's `pre_hook` / `post_hook` configs rendered with its context, as
   * dbt renders model hooks at run time (`{{ this }}` is the node's relation).
   * A hook is a string, dbt's `{sql, transaction}` dict, or that dict as JSON
   * text (what `before_begin()` / `after_commit()` return; read before
   * rendering, as dbt's get_hook_dict at parse). `transaction: false` hooks
   * go to `beforeBeginHooks` / `afterCommitHooks`; empty results are dropped.
   */
  const renderHooks = (node: ManifestNode, threadId?: string): Pick<CompiledNode, 'preHooks' | 'postHooks' | 'beforeBeginHooks' | 'afterCommitHooks'> => {
    const cfg = node.config as { pre_hook?: unknown; post_hook?: unknown };
    const result: { preHooks?: HookSql[]; postHooks?: HookSql[]; beforeBeginHooks?: HookSql[]; afterCommitHooks?: HookSql[] } = {};
    let ctx: Record<string, unknown> | undefined;
    for (const [key, field, outside] of [['pre_hook', 'preHooks', 'beforeBeginHooks'], ['post_hook', 'postHooks', 'afterCommitHooks']] as const) {
      const list = cfg[key] === undefined || cfg[key] === null ? [] : Array.isArray(cfg[key]) ? (cfg[key] as unknown[]) : [cfg[key]];
      const inTx: HookSql[] = [];
      const outTx: HookSql[] = [];
      for (const h of list) {
        const hook = hookDict(h);
        if (hook === null) {
          throw new TsdbtError('invalid-hook', `${key} of ${node.resource_type} ${node.name} must be SQL text, got ${JSON.stringify(h)}`, {
            file: node.original_file_path,
            hint: `e.g. {{ config(${key}="grant select on {{ this }} to reporting") }}, a list of such strings, or {"sql": "...", "transaction": false}`,
          });
        }
        const sqls = hook.transaction ? inTx : outTx;
        const text = hook.sql;
        if (!text.includes('{')) {
          if (text.trim()) sqls.push(text);
          continue;
        }
        try {
          // Hooks never ask the database while the node compiles: one that does is rendered when it runs.
          const sql = parsed.jinja.render(text, (ctx ??= contextFor(node, new ReplayLog(false), undefined, threadId)), { file: node.original_file_path });
          if (sql.trim()) sqls.push(sql);
        } catch (e) {
          if (!findNeedsDatabase(e)) throw e;
          sqls.push({ template: text });
        }
      }
      if (inTx.length) result[field] = inTx;
      if (outTx.length) result[outside] = outTx;
    }
    return result;
  };

  /** Ephemeral models `node` uses, transitively, in dependency order. */
  const ephemeralDeps = (node: ManifestNode, seen = new Set<string>(), order: ManifestNode[] = []): ManifestNode[] => {
    for (const dep of node.depends_on.nodes) {
      const d = manifest.nodes[dep];
      if (!d || d.config.materialized !== 'ephemeral' || seen.has(dep)) continue;
      seen.add(dep);
      ephemeralDeps(d, seen, order);
      order.push(d);
    }
    return order;
  };

  /** Compiles one node: body, inlined ephemerals, hooks. @throws TsdbtError (or NeedsDatabase, through the Jinja layer) */
  const compileOne = (node: ManifestNode, log: ReplayLog, threadId?: string): CompiledNode => {
    const captured: Captured | undefined = node.test_metadata ? { refs: [], sources: [], config: {} } : undefined;
    const body = renderBody(node, log, threadId, captured);
    const ctes = ephemeralDeps(node).map((e) => ({ name: cteName(e), sql: renderBody(e, log, threadId) }));
    const compiled = ctes.length ? injectCtes(body, ctes) : body;
    const hooks = node.resource_type === 'test' ? undefined : renderHooks(node, threadId);
    return {
      uniqueId: node.unique_id,
      compiledCode: compiled,
      compiledPath: compiledPathOf(opts.project, node),
      incremental: isIncremental(node),
      ...hooks,
      ...(captured && Object.keys(captured.config).length ? { config: { ...node.config, ...captured.config } } : {}),
    };
  };

  const compileUpFront = (): UpFrontCompile => {
    const out = new Map<string, CompiledNode>();
    const atRunTime = new Set<string>();
    const reported = new Set<unknown>(); // an ephemeral's error is reported once, not once per user
    let done = 0;
    for (const id of idList) {
      const node = manifest.nodes[id];
      opts.onProgress?.('nodes rendered', ++done, idList.length);
      if (!node || !COMPILABLE.has(node.resource_type)) continue;
      try {
        out.set(id, compileOne(node, new ReplayLog(false)));
      } catch (e) {
        if (findNeedsDatabase(e)) {
          atRunTime.add(id);
          continue;
        }
        if (!(e instanceof TsdbtError)) throw e;
        const key = `${e.file}:${e.line}:${e.message}`;
        if (!reported.has(key)) diags.error(e);
        reported.add(key);
      }
    }
    diags.throwIfErrors();
    return { compiled: out, atRunTime };
  };

  const compileAtRunTime = async (uniqueId: string, db: LiveDatabase, threadId?: string): Promise<CompiledNode> => {
    const node = manifest.nodes[uniqueId];
    const { value } = await renderWithDatabase((log) => compileOne(node, log, threadId), db);
    return value;
  };

  const renderHookAtRunTime = async (uniqueId: string, template: string, db: LiveDatabase, threadId?: string): Promise<string> => {
    const node = manifest.nodes[uniqueId];
    const { value } = await renderWithDatabase((log) => parsed.jinja.render(template, contextFor(node, log, undefined, threadId), { file: node.original_file_path }), db);
    return value;
  };

  /**
   * A unit test's "actual" SQL: the tested model rendered in dbt's unit test
   * context (RuntimeUnitTestRefResolver / UnitTestContext): every `ref()` /
   * `source()` it makes resolves to the CTE of the given input (one not
   * given is an error), `this` to the `input: this` CTE when given,
   * `is_incremental()` and other macros to `overrides.macros`, `var()` and
   * `env_var()` to `overrides.vars` / `overrides.env_vars` first. The input
   * CTEs (`inputs[i].sql`, already built from the fixture rows; format sql
   * fixtures are rendered here, as dbt renders an input's raw code) are
   * injected in front, as ephemeral models are.
   * @throws TsdbtError, or a database call's DatabaseError.
   */
  const compileUnitTest = async (def: UnitTestDefinition, inputs: readonly UnitTestInputSql[], db: LiveDatabase, threadId?: string): Promise<string> => {
    const model = manifest.nodes[def.depends_on.nodes[0]];
    const where = { file: def.original_file_path, line: def.line };
    const byTarget = new Map(inputs.map((i) => [i.target, i]));
    const cte = (i: UnitTestInputSql) => new JinjaRelation({ identifier: i.cteName }, undefined, true);
    const overrides = def.overrides ?? { macros: {}, vars: {}, env_vars: {} };
    const base = hooksFor(model);
    const notGiven = (what: string, input: string) =>
      new TsdbtError('unit-test-input-missing', `unit test ${def.name}: model ${model.name} uses ${what}, which is not given as an input`, {
        ...where,
        hint: `add it under given: — \`- input: ${input}\` with rows: (rows: [] for none): every ref and source the model uses needs an input, as in dbt`,
      });
    const hooks: ContextHooks = {
      ref: (call) => {
        const target = refTarget(call, model);
        const given = target && byTarget.get(target.unique_id);
        if (!given) throw notGiven(`ref('${call.name}')`, `ref('${call.name}')`);
        return cte(given);
      },
      source: (s, t) => {
        const given = byTarget.get(sourceOf(s, t, model)?.unique_id ?? `source.${model.package_name}.${s}.${t}`);
        if (!given) throw notGiven(`source('${s}', '${t}')`, `source('${s}', '${t}')`);
        return cte(given);
      },
      variable: (name, fallback, hasDefault) => (Object.hasOwn(overrides.vars, name) ? overrides.vars[name] : base.variable(name, fallback, hasDefault)),
      envVar: (name, fallback, hasDefault) => (Object.hasOwn(overrides.env_vars, name) ? String(overrides.env_vars[name]) : base.envVar(name, fallback, hasDefault)),
      isIncremental: () => overrides.macros.is_incremental === true,
    };
    const thisInput = byTarget.get('this');
    const render = (log: ReplayLog): string => {
      const ctx = contextFor(model, log, hooks, threadId, undefined, thisInput ? cte(thisInput) : undefined);
      // overrides.macros: calling the macro returns the given value (dbt's UnitTestMacroGenerator); `dbt.x` is `x`.
      const macroOverrides: Record<string, unknown> = {};
      for (const [name, value] of Object.entries(overrides.macros)) {
        const short = name.startsWith('dbt.') ? name.slice(4) : name;
        if (short.includes('.')) {
          throw new TsdbtError('unsupported-macro-override', `[unsupported] unit test ${def.name} overrides the package macro ${name}: tsdbt overrides macros by their name only`, {
            ...where,
            hint: `override it by its name without the package (${short.split('.').pop()}), which replaces it wherever it is called`,
          });
        }
        macroOverrides[short] = () => value;
      }
      // …and in the `dbt` namespace too (`dbt.current_timestamp()`), as dbt propagates overrides of its own macros.
      const dbtNs = Object.keys(macroOverrides).length ? parsed.jinja.resolve('dbt', ctx) : undefined;
      if (dbtNs && typeof dbtNs === 'object') {
        macroOverrides.dbt = new Proxy(dbtNs, {
          get: (t, k, r) => (typeof k === 'string' && k !== 'dbt' && Object.hasOwn(macroOverrides, k) ? macroOverrides[k] : Reflect.get(t, k, r)),
        });
      }
      ctx[MACRO_OVERRIDES] = macroOverrides;
      const body = parsed.jinja.render(model.raw_code, ctx, { file: model.original_file_path });
      const ctes = inputs.map((i) => ({
        name: i.cteName,
        sql: i.template ? parsed.jinja.render(i.sql, ctx, { file: def.original_file_path }) : i.sql,
      }));
      return ctes.length ? injectCtes(body, ctes) : body;
    };
    const { value } = await renderWithDatabase(render, db);
    return value;
  };

  const renderRunHook = async (hook: ManifestNode, extra: Record<string, unknown>, db: LiveDatabase): Promise<string> => {
    const { value } = await renderWithDatabase(
      (log) => parsed.jinja.render(hook.raw_code, Object.assign(contextFor(hook, log, undefined, 'main'), extra), { file: hook.original_file_path }),
      db,
    );
    return value;
  };

  const callMacroAtRunTime = async (node: ManifestNode, macro: string, kwargs: Record<string, unknown>, db: LiveDatabase, beforeRender?: () => void): Promise<unknown> => {
    const { value } = await renderWithDatabase((log) => {
      beforeRender?.();
      return parsed.jinja.callMacro(macro, [], kwargs, contextFor(node, log, undefined, 'main'));
    }, db);
    return value;
  };


  const runInContextAtRunTime = async <T>(uniqueId: string, db: LiveDatabase, threadId: string | undefined, fn: (ctx: Record<string, unknown>, log: ReplayLog) => T): Promise<T> => {
    const node = manifest.nodes[uniqueId];
    const { value } = await renderWithDatabase((log) => fn(contextFor(node, log, undefined, threadId), log), db);
    return value;
  };

  return { compileUpFront, compileAtRunTime, renderHookAtRunTime, compileUnitTest, renderRunHook, callMacroAtRunTime, runInContextAtRunTime };
}

/** One given input of a unit test as SQL, for {@link Compiler.compileUnitTest}. */
export interface UnitTestInputSql {
  /** What it replaces: the unique_id of the ref'd node or source, or `this`. */
  readonly target: string;
  /** The CTE name the model's ref()/source()/this render to. */
  readonly cteName: string;
  /** The CTE body: fixture SQL built from rows, or a format sql fixture. */
  readonly sql: string;
  /** True when `sql` is a template to render in the model's context (format sql). */
  readonly template?: boolean;
}

/** Where dbt writes a node's compiled SQL: `<target>/compiled/<package>/<file>` (generic tests: `<yml path>/<test name>.sql`; unit tests: `<yml path>/<model>/<test name>.sql`). */
export function compiledPathOf(project: ProjectConfig, node: ManifestNode, kind: 'compiled' | 'run' = 'compiled'): string {
  // A generic test, or a snapshot defined in YAML (dbt ≥ 1.9), is written under its properties file's path.
  const file = node.test_metadata || node.resource_type === 'unit_test'
    ? `${node.original_file_path}/${node.path}`
    : node.resource_type === 'snapshot' && !node.original_file_path.endsWith('.sql')
      ? `${node.original_file_path}/${node.name}.sql`
      : node.original_file_path;
  return `${project.targetPath}/${kind}/${node.package_name}/${file}`;
}

/**
 * A hook config entry as dbt's get_hook_dict reads it: a dict, JSON text of a
 * dict, or plain SQL text; `transaction` defaults to true. Null when it is
 * none of these.
 */
function hookDict(h: unknown): { sql: string; transaction: boolean } | null {
  let v: unknown = h;
  if (v !== null && typeof v === 'object' && !Array.isArray(v) && typeof (v as { toString?: unknown }).toString === 'function' && !('sql' in (v as object))) v = String(v); // SafeString
  if (typeof v === 'string') {
    const text = v;
    const t = text.trim();
    if (!(t.startsWith('{') && t.endsWith('}') && t.includes('"sql"'))) return { sql: text, transaction: true };
    try {
      v = JSON.parse(t);
    } catch {
      return { sql: text, transaction: true };
    }
  }
  if (v && typeof v === 'object' && typeof (v as { sql?: unknown }).sql === 'string') {
    const tx = (v as { transaction?: unknown }).transaction;
    return { sql: (v as { sql: string }).sql, transaction: tx === undefined || tx === null ? true : tx !== false && tx !== 'false' };
  }
  return null;
}

/** The node as a dict for templates (`model` in dbt's context). */
function nodeDict(node: ManifestNode): Record<string, unknown> {
  return {
    unique_id: node.unique_id,
    name: node.name,
    resource_type: node.resource_type,
    package_name: node.package_name,
    path: node.path,
    original_file_path: node.original_file_path,
    fqn: node.fqn,
    config: node.config,
    tags: node.tags,
    schema: node.schema,
    database: node.database,
    alias: node.alias,
    description: node.description,
    columns: node.columns,
    meta: node.meta,
    raw_code: node.raw_code,
    version: node.version ?? null,
    latest_version: node.latest_version ?? null,
  };
}

/**
 * Puts ephemeral CTEs in front of `sql`, as dbt does: merged into the
 * statement's own leading `with` (after `recursive` if present), or as a new
 * `with` clause. Leading comments stay in place.
 */
export function injectCtes(sql: string, ctes: readonly { name: string; sql: string }[]): string {
  const defs = ctes.map((c) => `${c.name} as (\n${c.sql.trim()}\n)`).join(',\n');
  const i = firstToken(sql)?.offset ?? sql.length;
  const m = /^with(\s+recursive)?\s/i.exec(sql.slice(i));
  if (m) {
    const at = i + m[0].length;
    return `${sql.slice(0, at)}${defs},\n${sql.slice(at)}`;
  }
  return `${sql.slice(0, i)}with ${defs}\n${sql.slice(i)}`;
}
