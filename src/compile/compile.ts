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
import type { Manifest, ManifestNode, RefCall } from '../parse/manifest.ts';
import { JinjaRelation } from '../parse/relation.ts';
import { buildContext, type Captured, type ContextHooks } from '../parse/jinja-context.ts';
import { staticExtract, substituteCalls, type StaticCall } from '../parse/static-extract.ts';
import { lookupKeys, refKey } from '../parse/model-versions.ts';
import { NameLookup } from '../parse/ref-lookup.ts';
import type { ProjectConfig } from '../config/types.ts';
import { assertModelIsSelect, firstToken } from './model-statement.ts';
import { ReplayLog, findNeedsDatabase, renderWithDatabase, type LiveDatabase } from './live.ts';
import { flatGraph, runContextMembers } from './run-context.ts';

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
  /** unique_ids selected in this invocation (`selected_resources`); default: the ids compiled. */
  readonly selected?: readonly string[];
  /** Where `log(msg, info=True)`, `print()` and `print_table()` write; default: nowhere. */
  readonly onLog?: (msg: string, info: boolean) => void;
  /** dbt's `flags` (`WHICH`, `FULL_REFRESH`, `STORE_FAILURES`, …) as templates see them. */
  readonly flags?: Record<string, unknown>;
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
    if (!state || selectedIds.has(n.unique_id) || n.config.materialized === 'ephemeral' || kindOf(n) !== null) return null;
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
      return refRelationOf(target);
    },
    source: (s, t) => {
      const src = sourceOf(s, t, node);
      if (!src) throw new TsdbtError('source-not-found', `source('${s}', '${t}') is not declared`, { file: node.original_file_path });
      return new JinjaRelation({ database: src.database, schema: src.schema, identifier: src.identifier });
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
  const contextFor = (node: ManifestNode, log: ReplayLog, hooks: ContextHooks = hooksFor(node), threadId?: string, captured?: Captured): Record<string, unknown> => {
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
      self: node.resource_type === 'test' ? null : relationOf(node),
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
        if (!opts.deferTo) return renderedRelation(n);
        let text = renderedRefs.get(n.unique_id);
        if (text === undefined) renderedRefs.set(n.unique_id, (text = refRelationOf(n).render()));
        return text;
      }
      case 'source': {
        const src = sourceOf(c.source[0], c.source[1], node)!;
        return new JinjaRelation({ database: src.database, schema: src.schema, identifier: src.identifier }).render();
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
   * A hook may be a string or dbt's `{sql, transaction}` dict; empty results
   * are dropped.
   */
  const renderHooks = (node: ManifestNode, threadId?: string): { preHooks?: HookSql[]; postHooks?: HookSql[] } => {
    const cfg = node.config as { pre_hook?: unknown; post_hook?: unknown };
    const result: { preHooks?: HookSql[]; postHooks?: HookSql[] } = {};
    let ctx: Record<string, unknown> | undefined;
    for (const [key, field] of [['pre_hook', 'preHooks'], ['post_hook', 'postHooks']] as const) {
      const list = cfg[key] === undefined || cfg[key] === null ? [] : Array.isArray(cfg[key]) ? (cfg[key] as unknown[]) : [cfg[key]];
      const sqls: HookSql[] = [];
      for (const h of list) {
        const text = typeof h === 'string' ? h : h && typeof h === 'object' && typeof (h as { sql?: unknown }).sql === 'string' ? (h as { sql: string }).sql : null;
        if (text === null) {
          throw new TsdbtError('invalid-hook', `${key} of ${node.resource_type} ${node.name} must be SQL text, got ${JSON.stringify(h)}`, {
            file: node.original_file_path,
            hint: `e.g. {{ config(${key}="grant select on {{ this }} to reporting") }} or a list of such strings`,
          });
        }
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
      if (sqls.length) result[field] = sqls;
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
    for (const id of idList) {
      const node = manifest.nodes[id];
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

  const runInContextAtRunTime = async <T>(uniqueId: string, db: LiveDatabase, threadId: string | undefined, fn: (ctx: Record<string, unknown>, log: ReplayLog) => T): Promise<T> => {
    const node = manifest.nodes[uniqueId];
    const { value } = await renderWithDatabase((log) => fn(contextFor(node, log, undefined, threadId), log), db);
    return value;
  };

  return { compileUpFront, compileAtRunTime, renderHookAtRunTime, runInContextAtRunTime };
}

/** Where dbt writes a node's compiled SQL: `<target>/compiled/<package>/<file>` (generic tests: `<yml path>/<test name>.sql`). */
export function compiledPathOf(project: ProjectConfig, node: ManifestNode, kind: 'compiled' | 'run' = 'compiled'): string {
  // A generic test, or a snapshot defined in YAML (dbt ≥ 1.9), is written under its properties file's path.
  const file = node.test_metadata
    ? `${node.original_file_path}/${node.path}`
    : node.resource_type === 'snapshot' && !node.original_file_path.endsWith('.sql')
      ? `${node.original_file_path}/${node.name}.sql`
      : node.original_file_path;
  return `${project.targetPath}/${kind}/${node.package_name}/${file}`;
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
