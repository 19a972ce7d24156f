/**
 * tsdbt's programmatic API — what orchestrators and scripts call instead of
 * the CLI (dbt's `dbtRunner().invoke([...])`). The CLI is a thin layer over
 * the same functions. Nothing here calls `process.exit` or installs signal
 * handlers: pass an AbortSignal to cancel a run.
 *
 * ```ts
 * import { build, loadProject, parse, compile } from 'tsdbt';
 *
 * const result = await build({ projectDir: './my_project', select: ['tag:daily'], console: 'silent' });
 * console.log(result.exitCode, result.results?.results.map((r) => [r.unique_id, r.status]));
 *
 * const project = loadProject('./my_project', { target: 'dev' });
 * const parsed = parse(project);                       // the Manifest (+ lineage graph)
 * const sql = await compile(project, parsed, { select: ['orders'] }); // unique_id → compiled SQL
 * ```
 *
 * Errors in the project (bad YAML, Jinja, a missing ref …) reject with a
 * {@link TsdbtError} (`code`, `file`, `line`, `hint`, `format()`); node
 * failures do not reject: they are in `results`, and `exitCode` is 1.
 */
import { Writable } from 'node:stream';
import { join } from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import { createConsole, type Console } from './cli/console.ts';
import { openSession, parseSession, select, compileSession, relationState, runCommand, type CommonFlags, type Parsed, type Session } from './cli/pipeline.ts';
import { createAdapter } from './adapters/index.ts';
import { readRunResults, type RunResults, type NodeResult } from './artifacts/index.ts';
import type { RunCommand } from './runner/run.ts';
import { runOperation as runOperationCommand } from './cli/run-operation.ts';
import { sourceFreshness as sourceFreshnessCommand } from './cli/freshness-command.ts';

export { TsdbtError, CompileErrors } from './errors.ts';
export type { RunResults, NodeResult } from './artifacts/index.ts';
export type { Manifest, ManifestNode } from './parse/manifest.ts';
export type { Session, Parsed } from './cli/pipeline.ts';
export type { Console } from './cli/console.ts';

/** Options every call takes; each is the CLI flag of the same name. */
export interface TsdbtOptions {
  /** Directory holding dbt_project.yml (default: the current directory). */
  readonly projectDir?: string;
  /** Directory holding profiles.yml (default: dbt's lookup: project dir, then ~/.dbt). */
  readonly profilesDir?: string;
  /** Profile target (default: the profile's `target`). */
  readonly target?: string;
  /** `--vars`: an object, or YAML text. */
  readonly vars?: Record<string, unknown> | string;
  /** `--select`: dbt selection syntax, one selector per entry. */
  readonly select?: readonly string[];
  readonly exclude?: readonly string[];
  readonly threads?: number;
  readonly fullRefresh?: boolean;
  readonly failFast?: boolean;
  readonly warnError?: boolean;
  readonly storeFailures?: boolean;
  readonly resourceType?: readonly string[];
  /** `--exclude-resource-type`. */
  readonly excludeResourceType?: readonly string[];
  /** `--selector NAME`: a selector of selectors.yml (wins over `select`). */
  readonly selector?: string;
  /** `--indirect-selection`: which tests of the selected nodes come along (default eager). */
  readonly indirectSelection?: 'eager' | 'cautious' | 'buildable' | 'empty';
  /** `--empty` (run, build): ref() and source() read no rows. */
  readonly empty?: boolean;
  /** `--state DIR` (a previous target/ with manifest.json). */
  readonly state?: string;
  readonly defer?: boolean;
  /** `--favor-state` (with `defer`): unselected nodes read the state's relations even when they exist in this target. */
  readonly favorState?: boolean;
  /** Where progress and messages go: 'silent' (default), 'terminal' (stdout/stderr, as the CLI), or your own Console. */
  readonly console?: Console | 'silent' | 'terminal';
  /** Aborting cancels running queries (their transactions roll back) and skips the rest, as Ctrl-C. */
  readonly signal?: AbortSignal;
}

/** The outcome of run / build / test / seed. */
export interface InvokeResult {
  /** True when nothing errored or failed at error severity (exitCode 0). */
  readonly success: boolean;
  /** The CLI's exit code: 0 success, 1 a node or test failed. */
  readonly exitCode: number;
  /** target/run_results.json as written by this invocation (dbt's run_results v6), or null if none was written. */
  readonly results: RunResults | null;
}

function consoleOf(opt: TsdbtOptions['console']): Console {
  if (opt && typeof opt === 'object') return opt;
  if (opt === 'terminal') return createConsole();
  const sink = new Writable({ write: (_c, _e, cb) => cb() }) as unknown as NodeJS.WriteStream;
  return createConsole({ stdout: sink, stderr: sink, color: false, quiet: true });
}

function flagsOf(o: TsdbtOptions): CommonFlags {
  return {
    projectDir: o.projectDir,
    profilesDir: o.profilesDir,
    target: o.target,
    vars: o.vars === undefined ? undefined : typeof o.vars === 'string' ? o.vars : JSON.stringify(o.vars),
    select: o.select ? [...o.select] : undefined,
    exclude: o.exclude ? [...o.exclude] : undefined,
    threads: o.threads,
    fullRefresh: o.fullRefresh,
    failFast: o.failFast,
    warnError: o.warnError,
    storeFailures: o.storeFailures,
    resourceType: o.resourceType ? [...o.resourceType] : undefined,
    excludeResourceType: o.excludeResourceType ? [...o.excludeResourceType] : undefined,
    selector: o.selector,
    indirectSelection: o.indirectSelection,
    empty: o.empty,
    state: o.state,
    defer: o.defer,
    favorState: o.favorState,
  };
}

/**
 * Reads dbt_project.yml and the profile target of the project in `dir`.
 * @throws TsdbtError for a missing or invalid dbt_project.yml / profiles.yml.
 */
export function loadProject(dir: string, options: Omit<TsdbtOptions, 'projectDir'> = {}): Session {
  return openSession(flagsOf({ ...options, projectDir: dir }), consoleOf(options.console));
}

/**
 * Parses the project: the Manifest (dbt's manifest v12 nodes, sources,
 * macros) and the lineage graph; writes target/manifest.json.
 * @throws TsdbtError / CompileErrors for every parse error at once.
 */
export function parse(project: Session, options: Pick<TsdbtOptions, 'console'> = {}): Parsed {
  return parseSession(project, consoleOf(options.console));
}

/**
 * Compiles the selected models, tests, analyses and snapshots (default: all)
 * as `tsdbt compile` does — connecting to the target for nodes whose
 * templates ask the database — and writes target/compiled/.
 * @returns unique_id → compiled SQL.
 * @throws CompileErrors for template errors; connection errors when a node needs the database.
 */
export async function compile(project: Session, parsed: Parsed, options: Pick<TsdbtOptions, 'select' | 'exclude' | 'console'> = {}): Promise<Map<string, string>> {
  const out = consoleOf(options.console);
  const s: Session = { ...project, flags: { ...project.flags, select: options.select ? [...options.select] : project.flags.select, exclude: options.exclude ? [...options.exclude] : project.flags.exclude } };
  const ids = select(s, parsed, ['model', 'test', 'analysis', 'snapshot'], out);
  const needsRelations = ids.some((id) => parsed.parsed.manifest.nodes[id]?.config.materialized === 'incremental');
  const adapter = needsRelations ? await createAdapter(s.target) : null;
  try {
    const relations = adapter ? await relationState(adapter, parsed.parsed) : new Map<string, string>();
    const compiled = await compileSession(s, parsed, ids, relations, { adapter, out });
    return new Map([...compiled].map(([id, c]) => [id, c.compiledCode]));
  } finally {
    await adapter?.close();
  }
}

async function invoke(command: RunCommand, options: TsdbtOptions): Promise<InvokeResult> {
  const flags = flagsOf(options);
  const out = consoleOf(options.console);
  const exitCode = await runCommand(command, flags, out, options.signal);
  const s = openSession(flags, consoleOf('silent'));
  const dir = join(s.project.root, s.project.targetPath);
  const results = existsSync(join(dir, 'run_results.json')) ? readRunResults(dir) : null;
  return { success: exitCode === 0, exitCode, results };
}

/** `tsdbt run`: materializes the selected models. Node failures are in the result, not thrown. */
export function run(options: TsdbtOptions = {}): Promise<InvokeResult> {
  return invoke('run', options);
}
/** `tsdbt build`: seeds, models, snapshots and tests in DAG order; a failing test skips what is downstream. */
export function build(options: TsdbtOptions = {}): Promise<InvokeResult> {
  return invoke('build', options);
}
/** `tsdbt test`: runs the selected data tests. */
export function test(options: TsdbtOptions = {}): Promise<InvokeResult> {
  return invoke('test', options);
}
/** `tsdbt seed`: loads the selected seeds. */
export function seed(options: TsdbtOptions = {}): Promise<InvokeResult> {
  return invoke('seed', options);
}

/** `tsdbt snapshot`: runs the selected snapshots (dbt's SCD type 2 history tables), each in one transaction. */
export function snapshot(options: TsdbtOptions = {}): Promise<InvokeResult> {
  return invoke('snapshot', options);
}

/**
 * `tsdbt run-operation MACRO --args …`: calls `macro` (`name` or
 * `package.name`) with keyword arguments `args` against the target, as dbt's
 * run-operation. A failing macro is in the result (exitCode 1), not thrown.
 * @throws TsdbtError `macro-not-found` for an unknown macro, `bad-args` for bad YAML args.
 */
export async function runOperation(macro: string, args: Record<string, unknown> | string = {}, options: TsdbtOptions = {}): Promise<InvokeResult> {
  const flags = { ...flagsOf(options), args: typeof args === 'string' ? args : JSON.stringify(args) };
  const exitCode = await runOperationCommand(macro, flags, consoleOf(options.console));
  const s = openSession(flags, consoleOf('silent'));
  const dir = join(s.project.root, s.project.targetPath);
  return { success: exitCode === 0, exitCode, results: existsSync(join(dir, 'run_results.json')) ? readRunResults(dir) : null };
}

/** What `sourceFreshness()` resolves to. */
export interface FreshnessInvokeResult {
  /** True when no table is stale past error_after nor failed to check (exitCode 0). */
  readonly success: boolean;
  readonly exitCode: number;
  /** The sources.json written (dbt's sources v3: `results[]` with unique_id, status, max_loaded_at, …). */
  readonly sources: { results: Record<string, unknown>[] } & Record<string, unknown>;
}

/**
 * `tsdbt source freshness`: checks the selected sources' freshness and writes
 * target/sources.json (or `output`), as dbt's source freshness.
 */
export async function sourceFreshness(options: TsdbtOptions & { output?: string } = {}): Promise<FreshnessInvokeResult> {
  const flags = { ...flagsOf(options), output: options.output };
  const exitCode = await sourceFreshnessCommand(flags, consoleOf(options.console));
  const s = openSession(flags, consoleOf('silent'));
  const path = options.output ?? join(s.project.root, s.project.targetPath, 'sources.json');
  return { success: exitCode === 0, exitCode, sources: JSON.parse(readFileSync(path, 'utf8')) };
}

/** Statuses of `results`, by unique_id (a convenience for scripts). */
export function statuses(results: RunResults | null): Record<string, NodeResult['status']> {
  return Object.fromEntries((results?.results ?? []).map((r) => [r.unique_id, r.status]));
}
