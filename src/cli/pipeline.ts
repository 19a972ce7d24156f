/**
 * The glue every command shares: flags → Project → Manifest → Graph →
 * selection → CompiledGraph → RunResults, and the artifacts written on the
 * way (manifest.json, run_results.json), as dbt's tasks do.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import type { ProjectConfig, TargetConfig } from '../config/types.ts';
import { dbtAdapterType, loadRuntimeConfig, parseVars } from '../config/index.ts';
import { parseProject, type ParseResult } from '../parse/parse-project.ts';
import { buildGraph, assertAcyclic, selectNodesDetailed, topologicalOrder, type LineageGraph } from '../graph/index.ts';
import { Compiler, type CompiledNode, type CompileOptions, type RelationState } from '../compile/compile.ts';
import { writeCompiledFilesInBackground } from '../compile/background-writes.ts';
import { createAdapter } from '../adapters/index.ts';
import type { Adapter, Connection } from '../adapters/adapter.ts';
import { writeManifest, writeRunResults, buildParentChildMaps, readManifest, readRunResults, ProgressiveRunResults, UNFINISHED_ARG, type NodeResult, type RunResults, type WriteRunResultsOptions } from '../artifacts/index.ts';
import { freezeManifest, type Manifest, type ManifestNode } from '../parse/manifest.ts';
import { writeJunit, githubAnnotations, type ReportedResult } from '../reporters/index.ts';
import { executePlan, planRun, COMMAND_RESOURCE_TYPES, type RunCommand } from '../runner/run.ts';
import type { Console, RunHeader } from './console.ts';
import { tsdbtVersion, driverVersion } from './version.ts';
import { DBT_VERSION } from '../dbt-version.ts';
import { CompileErrors, TsdbtError } from '../errors.ts';
import { checkNodeConfigs, citusHeaderNote, detectCitus, distWithoutCitusWarning } from '../materializations/index.ts';
import { loadSelectors } from '../config/selectors.ts';
import { evaluateSelector } from '../graph/selectors.ts';
import { describeHolder, type RunLock } from '../adapters/run-lock.ts';
import { CANCELLED_MESSAGE } from '../runner/faults.ts';
import { runUnitTest, withUnitTestNodes } from '../unittests/run-unit-test.ts';
import { projectRunHooks, type RunHookNode, type RunHookType } from '../parse/run-hooks.ts';
import { installedPackages } from '../parse/packages.ts';
import { runProjectHooks, onRunEndContext } from '../runner/run-hooks.ts';
import { parseFailureResults } from './parse-failure.ts';
import { findMaterializationMacro } from '../parse/materialization-macros.ts';
import type { CustomMaterializations } from '../runner/runners.ts';
import { checkProjectSql, checkRunTimeNode, checkRenderedSql, noDatabase, renderableAhead, validationOff, withColumnLineage, type ProjectLineage } from '../sql/index.ts';

/** Flags common to every command (dbt's global and sub-command flags). */
export interface CommonFlags {
  projectDir?: string;
  profilesDir?: string;
  target?: string;
  /** `--profile` / DBT_PROFILE: overrides dbt_project.yml's `profile:`. */
  profile?: string;
  /** `--target-path` / DBT_TARGET_PATH: overrides dbt_project.yml's `target-path`. */
  targetPath?: string;
  /** `--log-path` / `--log-format` (and the other logging flags): read by the console, see logging.ts. */
  logPath?: string;
  logFormat?: string;
  vars?: string;
  select?: string[];
  exclude?: string[];
  threads?: string | number;
  fullRefresh?: boolean;
  failFast?: boolean;
  warnError?: boolean;
  debug?: boolean;
  resourceType?: string[];
  /** `--exclude-resource-type`. */
  excludeResourceType?: string[];
  /** `--indirect-selection eager|cautious|buildable|empty`. */
  indirectSelection?: 'eager' | 'cautious' | 'buildable' | 'empty';
  /** `-m/--models`: merged into `select` (dbt's old alias). */
  models?: string[];
  /** `--selector NAME` (selectors.yml). */
  selector?: string;
  /** `--empty` (run, build): refs and sources read no rows (see CompileOptions.empty). */
  empty?: boolean;
  state?: string;
  defer?: boolean;
  /** `--favor-state` (with --defer): unselected nodes resolve to the state's relation even when they exist here. */
  favorState?: boolean;
  junit?: string;
  storeFailures?: boolean;
  /** Set by `retry`: run exactly these unique_ids instead of a selection. */
  only?: string[];
  /** `--no-wait` sets false: fail at once when another run holds the target's run lock. */
  wait?: boolean;
  /** `--no-version-check` sets false, `--version-check` true; unset: DBT_VERSION_CHECK decides. */
  versionCheck?: boolean;
  /** `--no-validate` sets false: compiled SQL is not parsed before running (see src/sql). */
  validate?: boolean;
}

/** A loaded project with its target: the start of every command. */
export interface Session {
  readonly project: ProjectConfig;
  readonly target: TargetConfig;
  readonly cliVars: Record<string, unknown>;
  readonly invocationId: string;
  readonly startedAt: number;
  readonly flags: CommonFlags;
}

/**
 * Where a target writes, for the run header: `host:port/dbname` on
 * PostgreSQL (never the user or password), the data directory (relative to
 * the project when inside it) or `memory` on PGlite.
 */
export function targetLocation(target: TargetConfig, projectRoot: string): string {
  if (target.type === 'pglite') {
    if (!target.dataDir) return 'memory';
    const rel = relative(projectRoot, target.dataDir);
    return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : target.dataDir;
  }
  return `${target.host ?? 'localhost'}:${target.port ?? 5432}/${target.dbname ?? ''}`;
}

/** Reads dbt_project.yml and the profile. Prints the embedded-database notice when no profile was found. */
export function openSession(flags: CommonFlags, out: Console): Session {
  const projectDir = resolve(flags.projectDir ?? process.cwd());
  const cliVars = flags.vars ? parseVars(flags.vars) : {};
  // The profile is read first, then dbt_project.yml is rendered once with `target` available (as dbt).
  const runtime = loadRuntimeConfig(projectDir, {
    vars: cliVars,
    profilesDir: flags.profilesDir,
    target: flags.target,
    profile: flags.profile,
  });
  const { target: loaded, notice, warnings } = runtime;
  // An absolute --target-path / DBT_TARGET_PATH (Cosmos sets one) is kept relative to the project, as every artifact path is join(root, targetPath).
  const project = flags.targetPath ? { ...runtime.project, targetPath: isAbsolute(flags.targetPath) ? relative(runtime.project.root, flags.targetPath) || '.' : flags.targetPath } : runtime.project;
  if (notice) out.notice(notice);
  for (const w of warnings ?? []) out.warn(String(w));
  let target = loaded;
  if (flags.threads !== undefined) {
    const n = Number(flags.threads);
    if (!Number.isInteger(n) || n < 1) throw new TsdbtError('bad-flag', `--threads must be a positive whole number, got '${flags.threads}'`, { hint: 'e.g. --threads 4' });
    target = { ...target, threads: n };
  }
  return { project, target, cliVars, invocationId: out.invocationId ?? randomUUID(), startedAt: performance.now(), flags };
}

export interface Parsed {
  readonly parsed: ParseResult;
  readonly graph: LineageGraph;
}

/**
 * Parses and links the project (parent/child/group maps filled); writes
 * target/manifest.json unless `opts.writeManifest` is false (runCommand
 * writes it once, after compiling).
 */
export function parseSession(s: Session, out: Console, opts: { writeManifest?: boolean } = {}): Parsed {
  const parsed = parseProject({ project: s.project, target: s.target, cliVars: s.cliVars, invocationId: s.invocationId, versionCheck: s.flags.versionCheck, onProgress: out.progress });
  for (const w of parsed.warnings) out.warn(w.format());
  const graph = buildGraph(parsed.manifest);
  assertAcyclic(parsed.manifest, graph);
  parsed.manifest.metadata.adapter_type = dbtAdapterType(s.target);
  buildParentChildMaps(parsed.manifest);
  // From here on the Manifest is read-only: compile results travel beside it (CompiledNode), never in it.
  freezeManifest(parsed.manifest);
  if (opts.writeManifest !== false) writeManifest(join(s.project.root, s.project.targetPath), manifestWithHooks(s, parsed.manifest, parsed.database));
  return { parsed, graph };
}

/**
 * Selected unique_ids of `resourceTypes` (sorted by unique_id), as dbt's
 * node selection; prints a warning for each selector that matched nothing.
 * `--state DIR` feeds `state:` and `result:` selectors.
 */
export function select(s: Session, p: Parsed, resourceTypes: readonly string[], out?: Console): string[] {
  // `all` / `default` mean no narrowing (dbt).
  const flagTypes = s.flags.resourceType?.length && !s.flags.resourceType.some((t) => t === 'all' || t === 'default') ? s.flags.resourceType : null;
  const types = flagTypes ? resourceTypes.filter((t) => flagTypes.includes(t)) : resourceTypes;
  const state = s.flags.state ? loadState(s) : null;
  const selectArg = s.flags.models?.length ? [...(s.flags.select ?? []), ...s.flags.models] : s.flags.select;
  // selectors.yml, as dbt: --selector wins over --select/--exclude; a `default: true` selector applies when neither is given.
  const selectors = loadSelectors(s.project.root);
  const selectorName = s.flags.selector ?? (!selectArg?.length && !s.flags.exclude?.length ? selectors.defaultName : null);
  if (selectorName) {
    if (!s.flags.selector) out?.notice(`Using the default selector ${selectorName} (selectors.yml)`);
    const dropped = new Set(s.flags.excludeResourceType ?? []);
    const r = evaluateSelector(selectorName, p.parsed.manifest, p.graph, {
      definitions: selectors.byName,
      file: selectors.file,
      options: { state: state?.manifest ?? null, stateResults: state?.results ?? null, indirectSelection: s.flags.indirectSelection },
    });
    for (const w of r.warnings) out?.warn(`${w.message}${w.hint ? `\n  hint: ${w.hint}` : ''}`);
    return r.selected.filter((id) => types.includes(p.parsed.manifest.nodes[id].resource_type) && !dropped.has(p.parsed.manifest.nodes[id].resource_type));
  }
  const r = selectNodesDetailed(p.parsed.manifest, p.graph, {
    select: selectArg,
    exclude: s.flags.exclude,
    excludeResourceTypes: s.flags.excludeResourceType,
    indirectSelection: s.flags.indirectSelection,
    sourceFreshness: s.flags.state ? loadSourceFreshness(s) : null,
    resourceTypes: [...types],
    state: state?.manifest ?? null,
    stateResults: state?.results ?? null,
  });
  for (const w of r.warnings) out?.warn(`${w.message}${w.hint ? `\n  hint: ${w.hint}` : ''}`);
  return r.selected;
}

/**
 * For `source_status:` selection: the results of sources.json in the
 * `--state` folder and in the target path (written by `tsdbt source
 * freshness`); null unless both exist.
 */
export function loadSourceFreshness(s: Session): { current: { unique_id: string; max_loaded_at?: string }[]; previous: { unique_id: string; max_loaded_at?: string }[] } | null {
  const previous = join(resolve(s.flags.state!), 'sources.json');
  const current = join(s.project.root, s.project.targetPath, 'sources.json');
  if (!existsSync(previous) || !existsSync(current)) return null;
  const read = (f: string) => {
    try {
      return (JSON.parse(readFileSync(f, 'utf8')) as { results?: { unique_id: string; max_loaded_at?: string }[] }).results ?? [];
    } catch (e) {
      throw new TsdbtError('bad-sources-json', `${f} is not a sources.json tsdbt can read: ${e instanceof Error ? e.message : String(e)}`, { hint: 'run tsdbt source freshness again to rewrite it' });
    }
  };
  return { current: read(current), previous: read(previous) };
}

/** The `--state` directory's manifest.json (required) and run_results.json (optional). */
export function loadState(s: Session): { manifest: Manifest; results: RunResults['results'] | null } {
  const dir = resolve(s.flags.state!);
  const manifest = readManifest(dir);
  let results: RunResults['results'] | null = null;
  if (existsSync(join(dir, 'run_results.json'))) results = readRunResults(dir).results;
  return { manifest, results };
}

/**
 * `--defer`: the `--state` manifest that refs to unselected, unbuilt nodes
 * resolve against (see CompileOptions.deferTo); null without `--defer`.
 * @throws TsdbtError `bad-flag` for `--defer` without `--state`.
 */
export function deferManifest(s: Session): Manifest | null {
  if (!s.flags.defer) return null;
  if (!s.flags.state) {
    throw new TsdbtError('bad-flag', '--defer needs --state DIR: the target/ directory (manifest.json) of the run to defer to', {
      hint: 'e.g. tsdbt run --select my_model --defer --state prod-run-artifacts/',
    });
  }
  return loadState(s).manifest;
}

/** Every relation that exists in the schemas the manifest uses (for is_incremental()). */
export async function relationState(adapter: Adapter, parsed: ParseResult): Promise<RelationState> {
  const schemas = new Set<string>();
  for (const n of Object.values(parsed.manifest.nodes)) if (n.relation_name) schemas.add(n.schema);
  const state = new Map<string, string>();
  for (const schema of schemas) {
    for (const r of await adapter.listRelations(schema)) state.set(`${r.schema}.${r.identifier}`, r.kind);
  }
  return state;
}

/** A session's compile: the up-front pass done, the nodes left for run time, and the compiler to finish them. */
export interface SessionCompile {
  readonly compiler: Compiler;
  /** unique_id → compiled node; run-time compiles are added as they happen. */
  readonly compiled: Map<string, CompiledNode>;
  /** Nodes whose templates ask the database: compiled on their connection, just before they run. */
  readonly atRunTime: ReadonlySet<string>;
}

/**
 * What every Compiler a command builds takes from its session and parse: the
 * project, the parse result, the target, `--vars` and the invocation id.
 */
export function sessionCompilerBase(s: Session, p: Parsed): Pick<CompileOptions, 'project' | 'parsed' | 'target' | 'cliVars' | 'invocationId'> {
  return { project: s.project, parsed: p.parsed, target: s.target, cliVars: s.cliVars, invocationId: s.invocationId };
}

/**
 * The up-front compile of `ids` (every node that asks the database nothing),
 * each written to target/compiled/…; the rest are left for
 * {@link compileAtRunTime} / {@link compileRemaining}.
 * @throws CompileErrors: every template error of the up-front nodes at once.
 */
export function compileUpFront(s: Session, p: Parsed, ids: readonly string[], relations: RelationState, deferTo: Manifest | null = null, command = 'compile', out?: Console): SessionCompile {
  const compiler = new Compiler(
    {
      ...sessionCompilerBase(s, p),
      fullRefresh: !!s.flags.fullRefresh,
      relations,
      deferTo,
      favorState: s.flags.favorState === true,
      selected: ids,
      empty: !!s.flags.empty,
      onLog: (msg, info, kind) => (kind === 'print' && out?.print ? out.print(msg) : info ? out?.info(msg) : out?.debug?.(msg)),
      onProgress: out?.progress,
      flags: { FULL_REFRESH: !!s.flags.fullRefresh, WHICH: command, STORE_FAILURES: !!s.flags.storeFailures, FAIL_FAST: !!s.flags.failFast, WARN_ERROR: !!s.flags.warnError, DEBUG: !!s.flags.debug },
    },
    ids,
  );
  // dbt reads favor_state only when deferring: say so rather than ignore it.
  if (s.flags.favorState === true && !deferTo) out?.warn('--favor-state has no effect without --defer (and --state DIR)');
  const { compiled, atRunTime } = compiler.compileUpFront();
  recordCompiled(s, p, [...compiled.values()]);
  return { compiler, compiled, atRunTime };
}

/** Writes compiled nodes to target/compiled/… (no secret can be in them: see src/secrets.ts). */
export function recordCompiled(s: Session, _p: Parsed, nodes: readonly CompiledNode[]): void {
  const files: { compiledPath: string; compiledCode: string }[] = [];
  for (const c of nodes) files.push({ compiledPath: c.compiledPath, compiledCode: c.compiledCode });
  // Files already holding the same text are left alone (an unchanged project writes nothing). Many files are
  // written by a worker thread while this one goes on; main.ts awaits flushBackgroundWrites() before exiting.
  void writeCompiledFilesInBackground(s.project.root, files);
}

/** Compiles one set-aside node on `conn` (run time) and records it. */
export async function compileAtRunTime(s: Session, p: Parsed, sc: SessionCompile, uniqueId: string, conn: Connection, threadId?: string): Promise<CompiledNode> {
  const c = await sc.compiler.compileAtRunTime(uniqueId, conn, threadId);
  sc.compiled.set(uniqueId, c);
  recordCompiled(s, p, [c]);
  checkRunTimeNode(p.parsed.manifest, c, p.parsed.jinja.macroDefinitions(), { root: s.project.root, validate: s.flags.validate }); // src/sql
  return c;
}

/**
 * Compiles the nodes the up-front pass left, in DAG order, each on a
 * connection of `adapter` (for `compile`, `show`, `docs generate`: dbt's
 * compile connects too). Errors are collected, then thrown together.
 */
export async function compileRemaining(s: Session, p: Parsed, sc: SessionCompile, adapter: Adapter): Promise<void> {
  const rank = new Map(topologicalOrder(p.graph).map((id, i) => [id, i]));
  const ids = [...sc.atRunTime].sort((a, b) => (rank.get(a) ?? 0) - (rank.get(b) ?? 0));
  const errors: TsdbtError[] = [];
  for (const id of ids) {
    try {
      await adapter.withConnection((conn) => compileAtRunTime(s, p, sc, id, conn));
    } catch (e) {
      if (!(e instanceof TsdbtError)) throw e;
      errors.push(e);
    }
  }
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new CompileErrors(errors);
}

/**
 * Compiles `ids` completely (compile, show, docs generate): the up-front
 * pass, then — only if some node asks the database — the rest on a
 * connection, opened here when `adapter` is not given.
 * @throws CompileErrors, or a connection error naming the node that needed the database.
 */
export async function compileSession(s: Session, p: Parsed, ids: readonly string[], relations: RelationState, opts: { deferTo?: Manifest | null; adapter?: Adapter | null; out?: Console } = {}): Promise<Map<string, CompiledNode>> {
  return (await compileSessionWithCompiler(s, p, ids, relations, opts)).compiled;
}

/**
 * {@link compileSession}, also returning the Compiler, so that the caller can
 * render the on-run hooks ahead for the SQL check (see {@link sqlCheck}).
 * @throws as compileSession.
 */
export async function compileSessionWithCompiler(s: Session, p: Parsed, ids: readonly string[], relations: RelationState, opts: { deferTo?: Manifest | null; adapter?: Adapter | null; out?: Console } = {}): Promise<SessionCompile> {
  const sc = compileUpFront(s, p, ids, relations, opts.deferTo ?? null, 'compile', opts.out);
  if (!sc.atRunTime.size) return sc;
  let adapter = opts.adapter ?? null;
  const own = !adapter;
  if (!adapter) {
    const first = p.parsed.manifest.nodes[[...sc.atRunTime][0]];
    try {
      adapter = await createAdapter(s.target);
    } catch (e) {
      throw new TsdbtError('needs-database', `${first.resource_type} ${first.name} asks the database while compiling (run_query, adapter introspection or a statement), and the target could not be reached: ${e instanceof Error ? e.message : String(e)}`, {
        file: first.original_file_path,
        hint: 'start the database of the target (or choose another with --target); dbt compiles such nodes against the database too',
      });
    }
  }
  try {
    await compileRemaining(s, p, sc, adapter);
  } finally {
    if (own) await adapter.close();
  }
  return sc;
}

/** What run_results.json records about the invocation, as of now. */
function resultsOptions(s: Session, command: string): WriteRunResultsOptions {
  return {
    args: { which: command, ...s.flags, vars: s.cliVars },
    elapsedTime: (performance.now() - s.startedAt) / 1000,
    invocationId: s.invocationId,
    generatedAt: new Date().toISOString(),
  };
}

/** Writes run_results.json (always, including failed runs). */
export function writeResults(s: Session, results: readonly NodeResult[], command: string): void {
  writeRunResults(join(s.project.root, s.project.targetPath), results, resultsOptions(s, command));
}

/**
 * run / seed / test / build: the whole pipeline. Returns the exit code
 * (0 nothing failed at error severity, 1 a node or test failed).
 * run_results.json is written whatever happens once parsing succeeded,
 * including compile errors and cancelled runs.
 */
export async function runCommand(command: RunCommand, flags: CommonFlags, out: Console, signal?: AbortSignal): Promise<number> {
  const s = openSession(flags, out);
  // manifest.json is written after the up-front compile (with compiled_code), again at the end when nodes
  // compiled at run time (their compiled_code too), or in `finally` when it never got there.
  let p: Parsed;
  try {
    p = parseSession(s, out, { writeManifest: false });
  } catch (e) {
    // A parse failure is recorded in run_results.json too (see parse-failure.ts).
    if (e instanceof TsdbtError) writeResults(s, parseFailureResults(s.project, e), command);
    throw e;
  }
  let manifestWritten = false;
  let sc: SessionCompile | undefined;
  let lineage: ProjectLineage | null = null;
  const writeManifestOnce = () => {
    if (manifestWritten) return;
    manifestWritten = true;
    writeManifest(join(s.project.root, s.project.targetPath), withColumnLineage(manifestWithHooks(s, p.parsed.manifest, p.parsed.database), lineage), sc?.compiled);
  };
  const types = COMMAND_RESOURCE_TYPES[command];
  const chosen = flags.only
    ? flags.only.filter((id) => {
        const n = p.parsed.manifest.nodes[id] ?? p.parsed.manifest.unit_tests[id];
        return n && types.includes(n.resource_type);
      })
    : select(s, p, types, out);
  // Unit tests run as nodes of the plan (their definitions stay in manifest.unit_tests).
  const runManifest = withUnitTestNodes(p.parsed.manifest, chosen);
  // Topological order: ready nodes start upstream-first, as dbt's graph queue does.
  const plan = planRun(runManifest, { command, selected: chosen }, topologicalOrder(p.graph));
  const selected = plan.nodes.map((n) => n.uniqueId);
  let results: NodeResult[] = [];
  let progress: ProgressiveRunResults | undefined;
  try {
    if (!selected.length) {
      out.warn('Nothing to do: the selection matched no nodes.');
      return 0;
    }
    // Config values that reach SQL as names (indexes, unique_key, grants, …): every bad one reported before anything runs.
    checkNodeConfigs(p.parsed.manifest.nodes, selected);
    const adapter = await createAdapter(s.target);
    const onAbort = () => {
      void adapter.cancelAll().catch(() => undefined);
      if (!adapter.capabilities.cancel) {
        out.warn('The embedded database (PGlite) cannot interrupt a running statement: tsdbt stops after the current one finishes (press Ctrl-C again to exit at once).');
      }
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    let lock: RunLock | undefined;
    try {
      lock = await takeRunLock(s, adapter, command, out, signal, selected.map((id) => runManifest.nodes[id]!.schema));
      const relations = await relationState(adapter, p.parsed);
      // Compile up front every node that asks the database nothing: all their errors are reported before any
      // statement runs. The others compile on their own connection just before they run (as dbt does).
      sc = compileUpFront(s, p, selected, relations, deferManifest(s), command, out);
      const compiled = sc.compiled;
      const compiledSession = sc;
      // Every compiled statement parsed before any runs: all syntax errors at once, at the model file's line (src/sql).
      lineage = await sqlCheck(s, p, compiled.values(), out, sc.compiler);
      writeManifestOnce();
      const hooks = sessionRunHooks(s, p);
      const hookCount = hooks.start.length + hooks.end.length;
      // Citus, asked once per invocation: named in the header; `dist` without it is one warning (materializations/citus.ts).
      const citus = await detectCitus(adapter);
      const citusNote = citusHeaderNote(citus);
      const running = `${hookCount ? `${hookCount} project hook${hookCount === 1 ? '' : 's'}, ` : ''}${countTypes(runManifest.nodes, selected)}`;
      if (out.runHeader) {
        out.runHeader({ ...runHeaderFacts(s, p.parsed.manifest), nodeCount: selected.length + hookCount, ...(citusNote ? { extension: citusNote } : {}) });
        out.debug?.(`Running ${running}`);
      } else {
        out.info(`Running with tsdbt on ${s.target.type}${citusNote ? ` with ${citusNote}` : ''} (target ${s.target.name} at ${targetLocation(s.target, s.project.root)}, schema ${s.target.schema}): ${running}`);
        out.info('');
      }
      const distWarning = distWithoutCitusWarning(citus, selected.map((id) => runManifest.nodes[id]!).filter((n) => n.resource_type !== 'test'), s.target.type);
      if (distWarning) out.warn(distWarning);
      // run_results.json from now on says what is done and what is not, so a killed run leaves an honest record.
      const rec = new ProgressiveRunResults({
        dir: join(s.project.root, s.project.targetPath),
        nodes: selected.map((id) => ({ uniqueId: id, relationName: runManifest.nodes[id]?.relation_name ?? null })),
        options: () => resultsOptions(s, command),
      });
      progress = rec;
      rec.start();
      // on-run-start, the nodes, then on-run-end (even after failures), as dbt's RunTask.
      const runHooks = (type: RunHookType, list: readonly RunHookNode[], extra?: Record<string, unknown>) =>
        runProjectHooks({ type, hooks: list, adapter, extra, reporter: out, signal, render: (h, x, conn) => compiledSession.compiler.renderRunHook(h, x, conn).then((sql) => (checkRenderedSql(sql, `${h.hook_type} hook ${h.index}`, { file: h.original_file_path.replace(/^\.\//, ''), template: h.raw_code, root: s.project.root }, s.flags.validate), sql)) });
      if (hooks.start.length) {
        // dbt's before_run creates the selected nodes' schemas before on-run-start (hooks often write there).
        const m = runManifest;
        const schemas = new Set(selected.map((id) => m.nodes[id]).filter((n) => n && n.relation_name && n.resource_type !== 'test').map((n) => n.schema));
        for (const schema of [...schemas].sort()) await adapter.createSchema(schema);
      }
      const startResults = await runHooks('on-run-start', hooks.start);
      results = [...startResults];
      const nodeResults = await executePlan({
        command,
        project: s.project,
        manifest: runManifest,
        compiled,
        adapter,
        plan,
        threads: s.target.threads,
        fullRefresh: !!flags.fullRefresh,
        failFast: !!flags.failFast,
        warnError: !!flags.warnError,
        storeFailures: !!flags.storeFailures,
        targetSchema: s.target.schema,
        reporter: {
          nodeStarted: (node, index, total) => {
            rec.started(node.unique_id);
            out.nodeStarted?.(node, index, total);
          },
          nodeFinished: (node, result, index, total, detail) => {
            rec.finished(result);
            out.nodeFinished(node, result, index, total, detail);
          },
          nodeWarning: (node, message) => out.nodeWarning?.(node, message),
        },
        signal,
        retries: adapter.capabilities.connectionRetries,
        compileAtRunTime: (id, conn, threadId) => compileAtRunTime(s, p, compiledSession, id, conn, threadId),
        renderHookAtRunTime: (id, template, conn, threadId) =>
          compiledSession.compiler.renderHookAtRunTime(id, template, conn, threadId).then((sql) => {
            const n = p.parsed.manifest.nodes[id];
            if (n && !validationOff(n)) checkRenderedSql(sql, `hook of ${n.resource_type} '${n.name}'`, { file: n.original_file_path }, s.flags.validate); // src/sql
            return sql;
          }),
        runUnitTest: (id, conn, threadId, statements) =>
          runUnitTest(p.parsed.manifest.unit_tests[id]!, p.parsed.manifest, conn, (def, inputs, c, t) =>
              compiledSession.compiler.compileUnitTest(def, inputs, c, t).then((sql) => (checkRenderedSql(sql, `unit test '${def.name}'`, { file: def.original_file_path, line: def.line }, s.flags.validate), sql)),
            threadId,
            statements,
          ),
        customMaterializations: customMaterializations(s, p, compiledSession.compiler),
      });
      results = [...startResults, ...nodeResults];
      if (!signal?.aborted) results.push(...(await runHooks('on-run-end', hooks.end, onRunEndContext(results, runManifest, hooks.start))));
    } finally {
      signal?.removeEventListener('abort', onAbort);
      await lock?.release();
      await adapter.close();
    }
    out.summary(results, (performance.now() - s.startedAt) / 1000);
    if (signal?.aborted) {
      const cancelled = results.filter((r) => r.status === 'error' && r.message === CANCELLED_MESSAGE).map((r) => p.parsed.manifest.nodes[r.unique_id]?.name ?? r.unique_id);
      const notStarted = results.filter((r) => r.status === 'skipped').length;
      out.warn(
        `Cancelled by ${String(signal.reason ?? 'a signal')}: ${cancelled.length ? `${cancelled.join(', ')} cancelled (rolled back, previous relations intact)` : 'no node was running'}; ` +
          `${notStarted} not started (skipped). Run \`tsdbt retry\` to finish the run.`,
      );
    }
    return results.some((r) => r.status === 'error' || r.status === 'fail') ? 1 : 0;
  } finally {
    if (sc?.atRunTime.size) manifestWritten = false; // again, with what compiled at run time
    writeManifestOnce();
    progress?.close();
    // The final record; if execution itself threw, what the progressive record knew (nothing claimed done that was not).
    writeResults(s, results.length || !progress ? results : progress.snapshot(), command);
    await report(s, runManifest, results, out);
  }
}

/**
 * Parses the compiled SQL (src/sql): throws every syntax error at once; writes
 * target/lineage.json; returns the column lineage (null under --no-validate).
 */
export async function sqlCheck(s: Session, p: Parsed, compiled: Iterable<CompiledNode>, out?: Console, compiler?: Pick<SessionCompile['compiler'], 'renderRunHook'>): Promise<ProjectLineage | null> {
  const h = sessionRunHooks(s, p);
  const hooks = [];
  for (const x of [...h.start, ...h.end].filter((y) => y.package_name === s.project.name)) {
    // A hook with Jinja is rendered ahead when nothing in it depends on the run (src/sql/rendered.ts); else checked when it runs.
    let rendered: string | undefined;
    if (compiler && s.flags.validate !== false && renderableAhead(x.raw_code)) rendered = await compiler.renderRunHook(x, {}, noDatabase as never).catch(() => undefined);
    hooks.push({ label: `${x.hook_type} hook ${x.index}`, file: x.original_file_path.replace(/^\.\//, ''), sql: x.raw_code, rendered });
  }
  return checkProjectSql({ manifest: p.parsed.manifest, compiled, macros: p.parsed.jinja.macroDefinitions(), root: s.project.root, targetPath: s.project.targetPath, validate: s.flags.validate, out, hooks });
}

/** What the run header names (see Console.runHeader), but the node count. */
function runHeaderFacts(s: Session, manifest: Manifest): Omit<RunHeader, 'nodeCount'> {
  return {
    tsdbtVersion: tsdbtVersion(),
    dbtVersion: DBT_VERSION,
    adapter: { type: s.target.type, driver: driverVersion(s.target.type) },
    manifest,
    targetName: s.target.name,
    location: targetLocation(s.target, s.project.root),
    schema: s.target.schema,
    threads: s.target.threads,
    targetPath: s.project.targetPath,
  };
}

/** The project's and installed packages' on-run-start / on-run-end hooks, in dbt's order (see parse/run-hooks.ts). */
export function sessionRunHooks(s: Session, p: { readonly parsed: { readonly database: string } }): { start: RunHookNode[]; end: RunHookNode[] } {
  const packages = installedPackages(s.project).map((pkg) => ({ project: pkg.project, dir: pkg.dir }));
  const where = { schema: s.target.schema, database: p.parsed.database };
  return {
    start: projectRunHooks('on-run-start', { project: s.project }, packages, where),
    end: projectRunHooks('on-run-end', { project: s.project }, packages, where),
  };
}

/**
 * The manifest as manifest.json shows it: with the on-run hooks as
 * `operation` nodes (dbt's HookNodes, no parents or children). The manifest
 * itself is not changed (hooks are not selected, compiled or planned).
 */
export function manifestWithHooks(s: Session, manifest: Manifest, database: string): Manifest {
  const hooks = sessionRunHooks(s, { parsed: { database } });
  const all = [...hooks.start, ...hooks.end];
  if (!all.length) return manifest;
  const nodes = { ...manifest.nodes };
  const parentMap = { ...manifest.parent_map };
  const childMap = { ...manifest.child_map };
  for (const h of all) {
    const { index: _index, hook_type: _type, ...node } = h;
    nodes[h.unique_id] = { ...node, index: h.index } as ManifestNode;
    parentMap[h.unique_id] = [];
    childMap[h.unique_id] = [];
  }
  return { ...manifest, nodes, parent_map: parentMap, child_map: childMap };
}

/**
 * Takes the target's run lock (PostgreSQL; see adapters/run-lock.ts) for the
 * commands that build: run, seed, build, and test with --store-failures.
 * Waits with a message while another run holds it, or fails with `run-locked`
 * under `--no-wait`. Resolves to undefined when no lock is needed.
 */
async function takeRunLock(s: Session, adapter: Adapter, command: RunCommand, out: Console, signal?: AbortSignal, schemas: readonly string[] = []): Promise<RunLock | undefined> {
  if (!adapter.lockRun) return undefined;
  if (command === 'test' && !s.flags.storeFailures) return undefined;
  const schema = s.target.schema;
  return adapter.lockRun({
    schema,
    schemas,
    wait: s.flags.wait !== false,
    signal,
    onWait: (holder) => out.warn(`waiting for another tsdbt run on ${schema} (${describeHolder(holder)}) to finish … (--no-wait fails instead)`),
    onLost: (err) =>
      out.warn(`lost the run lock on ${schema} (${err.message}): the connection to the server dropped, so another run could start now; nodes still running may fail`),
  });
}

/** `--junit PATH` and, under GitHub Actions, workflow annotations for failures and warnings. */
async function report(s: Session, manifest: Manifest, results: readonly NodeResult[], out: Console): Promise<void> {
  const reported: ReportedResult[] = results.map((r) => {
    const n = manifest.nodes[r.unique_id] as (ManifestNode & { line?: number }) | undefined;
    return {
      unique_id: r.unique_id,
      // on-run hooks are not manifest nodes: `operation.<pkg>.<pkg>-on-run-start-0`
      name: n?.name ?? (r.unique_id.startsWith('operation.') ? r.unique_id.split('.').slice(2).join('.') : r.unique_id),
      resourceType: n?.resource_type ?? (r.unique_id.startsWith('operation.') ? 'operation' : 'model'),
      status: r.status,
      message: r.message ?? null,
      failures: r.failures ?? null,
      file: n?.original_file_path ?? (r.unique_id.startsWith('operation.') ? 'dbt_project.yml' : ''),
      line: n?.line,
      executionTime: r.execution_time ?? 0,
    };
  });
  if (s.flags.junit) {
    const path = resolve(s.flags.junit);
    await writeJunit(path, reported);
    out.info(`JUnit report written to ${s.flags.junit}`);
  }
  if (process.env.GITHUB_ACTIONS === 'true') {
    for (const line of githubAnnotations(reported)) out.out(line);
  }
}

/**
 * `tsdbt retry`: re-runs the nodes that errored, failed or were skipped in the
 * last invocation (target/run_results.json), with that invocation's command,
 * as dbt's `retry`.
 */
export async function retryCommand(flags: CommonFlags, out: Console, signal?: AbortSignal): Promise<number> {
  const s = openSession(flags, out);
  const dir = join(s.project.root, s.project.targetPath);
  if (!existsSync(join(dir, 'run_results.json'))) {
    throw new TsdbtError('no-previous-run', `there is no ${s.project.targetPath}/run_results.json to retry from`, {
      hint: 'run tsdbt run / build / test / seed first',
    });
  }
  const previous = readRunResults(dir);
  const which = String((previous.args as Record<string, unknown>).which ?? 'build');
  const ids = previous.results.filter((r) => ['error', 'fail', 'skipped', 'runtime error'].includes(r.status)).map((r) => r.unique_id);
  if (!['run', 'seed', 'test', 'snapshot', 'build'].includes(which)) {
    throw new TsdbtError('retry-unsupported', `the last invocation was '${which}', which retry cannot repeat`, { hint: 'retry repeats run, seed, test, snapshot or build' });
  }
  const prevArgs = previous.args as Record<string, unknown>;
  const unfinished = prevArgs[UNFINISHED_ARG] === true;
  if (!ids.length) {
    out.info('Nothing to retry: the last run had no errors, failures or skipped nodes.');
    return 0;
  }
  out.info(
    `Retrying ${ids.length} node${ids.length === 1 ? '' : 's'} from the last '${which}'` +
      (unfinished ? ` (it did not finish: killed or crashed before writing its final results; nodes running or not started then are rebuilt)` : ''),
  );
  return runCommand(
    which as RunCommand,
    { ...flags, fullRefresh: flags.fullRefresh ?? (prevArgs.fullRefresh as boolean | undefined), only: ids, select: undefined, exclude: undefined },
    out,
    signal,
  );
}

function countTypes(nodes: Record<string, { resource_type: string }>, ids: readonly string[]): string {
  const m = new Map<string, number>();
  for (const id of ids) {
    const t = nodes[id].resource_type;
    m.set(t, (m.get(t) ?? 0) + 1);
  }
  // A fixed order, as dbt's "Found 5 models, 3 seeds, 20 data tests".
  const order = ['model', 'seed', 'snapshot', 'test', 'unit_test', 'analysis'];
  return [...m]
    .sort(([a], [b]) => order.indexOf(a) - order.indexOf(b))
    .map(([t, n]) => `${n} ${t.replace('_', ' ')}${n === 1 ? '' : 's'}`) // "3 unit tests", as dbt
    .join(', ');
}

/**
 * User-defined `{% materialization %}` macros of the project and its packages, for the runners;
 * undefined when there are none. The lookup per materialization name is computed once.
 */
function customMaterializations(s: Session, p: Parsed, compiler: Compiler): CustomMaterializations | undefined {
  const jinja = p.parsed.jinja;
  const defs = jinja.macroDefinitions().filter((d) => d.kind === 'materialization');
  if (!defs.length) return undefined;
  const flag = s.project.flags?.require_explicit_package_overrides_for_builtin_materializations;
  const root = p.parsed.manifest.metadata.project_name ?? s.project.name;
  const cache = new Map<string, ReturnType<typeof findMaterializationMacro>>();
  return {
    find: (node) => {
      const name = String(node.config.materialized ?? (node.resource_type === 'seed' ? 'seed' : node.resource_type === 'test' ? 'test' : 'view'));
      let hit = cache.get(name);
      if (!hit) cache.set(name, (hit = findMaterializationMacro(defs, name, root, flag !== false)));
      return hit;
    },
    runInContext: (id, db, threadId, fn) => compiler.runInContextAtRunTime(id, db as never, threadId, fn as never),
    callMacro: (name, ctx) => jinja.callMacro(name, [], {}, ctx),
  };
}
