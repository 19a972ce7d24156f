/**
 * All terminal output goes through a {@link Console} (SQLMesh's habit): the
 * runner and commands never call `console.log`.
 *
 * The run log has dbt's shape (dbt-core 1.11: `events/types.py`,
 * `task/printer.py`, `task/run.py`; dbt-common's `format_fancy_output_line`):
 *
 * ```
 * 12:00:00  Running with tsdbt=0.1.0 (dbt=1.11.0)
 * 12:00:00  Registered adapter: postgres (pg 8.16.3)
 * 12:00:00  Found 5 models, 3 seeds, 20 data tests, 2 sources, 450 macros
 * 12:00:00  Target dev: postgres at 127.0.0.1:5432/analytics, schema analytics
 * 12:00:00
 * 12:00:00  Concurrency: 4 threads (target='dev')
 * 12:00:00
 * 12:00:01  1 of 5 START sql table model analytics.dim_user ........................ [RUN]
 * 12:00:01  1 of 5 OK created sql table model analytics.dim_user ................... [SELECT 42 in 0.12s]
 * …
 * 12:00:02  Finished running 5 table models in 0 hours 0 minutes and 1.23 seconds (1.23s).
 * 12:00:02
 * 12:00:02  Completed successfully
 * 12:00:02
 * 12:00:02  Done. PASS=5 WARN=0 ERROR=0 SKIP=0 NO-OP=0 TOTAL=5
 * ```
 *
 * Timestamps are UTC, as dbt's. The dot leaders fill `--printer-width`
 * (default 80, dbt's); on a terminal narrower than that the width shrinks and
 * long names are cut with `…`, so the status brackets stay aligned and no
 * line wraps. Off a terminal nothing but text is written (no colours unless
 * `--use-colors`, no cursor codes). tsdbt adds to dbt's log: failing rows of a
 * failed test right after its line, a heartbeat for a node running longer
 * than 30 s (`TSDBT_HEARTBEAT_SECONDS`), and a progress line while a large
 * project parses and compiles. Warnings and errors outside the run log go to
 * stderr; everything is also an event for `--log-format json` and logs/dbt.log
 * (see logging.ts). Text is printed as given: no secret reaches it (see
 * src/secrets.ts).
 */
import { Chalk } from 'chalk';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { ManifestNode, Manifest } from '../parse/manifest.ts';
import type { NodeResult } from '../artifacts/index.ts';
import type { NodeDetail, RunReporter } from '../runner/run.ts';
import { formatFailingRows } from '../reporters/index.ts';
import { CANCELLED_MESSAGE } from '../runner/faults.ts';
import { clockTime, debugLogLine, jsonLogLine, levelPasses, loggableArgs, RotatingLogFile, type EventLevel, type LogEvent, type LogOptions } from './logging.ts';

/** What the run header names (see {@link Console.runHeader}). */
export interface RunHeader {
  readonly tsdbtVersion: string;
  readonly dbtVersion: string;
  /** `postgres` / `pglite`, and the driver's name and version. */
  readonly adapter: { readonly type: string; readonly driver: string };
  readonly manifest: Manifest;
  readonly targetName: string;
  /** `host:port/dbname`, or the PGlite directory. */
  readonly location: string;
  readonly schema: string;
  readonly threads: number;
  /** How many nodes will run (ConcurrencyLine's node_count). */
  readonly nodeCount: number;
  /** The project's target-path (for `compiled code at …` in the recap). */
  readonly targetPath: string;
  /** A server extension the run uses, named after the adapter on the Target line (e.g. `Citus 13.2-1 (coordinator)`). */
  readonly extension?: string;
}

export interface Console extends RunReporter {
  info(text: string): void;
  /** Side remarks (e.g. which database is used) on stderr, so stdout stays clean for `ls`/`compile` output. */
  notice(text: string): void;
  warn(text: string): void;
  error(text: string): void;
  /** Raw output (e.g. `ls`, `compile` SQL) — no decoration; shown even with --quiet. */
  out(text: string): void;
  summary(results: readonly NodeResult[], elapsedSeconds: number): void;
  /** Debug detail: in logs/dbt.log, on the console only with `--log-level debug` / `--debug`. */
  debug?(text: string): void;
  /** `print()` from the project's Jinja: shown even with --quiet, as dbt's PrintEvent. */
  print?(text: string): void;
  /** dbt's run header: versions, `Found …`, the target, `Concurrency: N threads (target='…')`. */
  runHeader?(header: RunHeader): void;
  /** A hook's line (dbt's LogHookStartLine / LogHookEndLine), laid out like the node lines. */
  hookLine?(msg: string, status: string, index: number, total: number, executionTime?: number, level?: EventLevel): void;
  /** Parse/compile progress: `done` of `total` `what` (e.g. files read, nodes rendered). */
  progress?(what: string, done: number, total: number): void;
  /** Applies the invocation's logging flags; writes the log file's invocation header. */
  configureLogging?(options: LogOptions, invocation: { command: string; args: Record<string, unknown> }): void;
  /** The id of this invocation (run_results.json, JSON logs). */
  readonly invocationId?: string;
  /** Ends the invocation: dbt's CommandCompleted event, the log file closed. */
  close?(exitCode: number): void;
}

/** dbt's printer width. */
export const DEFAULT_PRINTER_WIDTH = 80;
/** Room kept for the status bracket on a narrow terminal (` [CREATE VIEW in 0.12s]`, ` [SELECT 1234 in 1.23s]`). */
const STATUS_ROOM = 24;
/** `HH:MM:SS  ` before each line. */
const STAMP_WIDTH = 10;

/**
 * dbt-common's `format_fancy_output_line`: `"{i} of {n} {msg} "` filled with
 * dots to `width`, then ` [status in 0.12s]`. With `maxPrefix` (a terminal
 * narrower than the width needs) the prefix is cut with `…` to fit. Returns
 * the line without and with colour (`statusColored`).
 */
export function fancyLine(
  msg: string,
  status: string,
  opts: { index?: number; total?: number; executionTime?: number; width?: number; columns?: number; statusColored?: string },
): { plain: string; colored: string } {
  const progress = opts.index !== undefined && opts.total !== undefined ? `${opts.index} of ${opts.total} ` : '';
  let prefix = `${progress}${msg} `;
  let width = opts.width ?? DEFAULT_PRINTER_WIDTH;
  if (opts.columns) {
    const room = opts.columns - STAMP_WIDTH - STATUS_ROOM;
    width = Math.max(20, Math.min(width, room));
    // A name longer than the width runs past it, as in dbt, while the line still fits the terminal; else it is cut.
    if (prefix.length > Math.max(width, room) - 4) {
      // Cut the middle, keeping the position and verb and the end of the name (what tells nodes apart), and at least 3 dots.
      const body = prefix.slice(0, -1);
      const keep = width - 5; // the body with its '…', then a space and 3 dots
      const verb = /^(?:\d+ of \d+ )?\S+ (?:\d+ )?/.exec(body)?.[0] ?? '';
      const head = verb.length && keep - verb.length - 1 >= 8 ? verb.length : Math.ceil(keep * 0.6);
      prefix = `${body.slice(0, head)}…${body.slice(body.length - (keep - head - 1))} `;
    }
  }
  const justified = prefix.padEnd(width, '.');
  const time = opts.executionTime === undefined ? '' : ` in ${opts.executionTime.toFixed(2)}s`;
  return { plain: `${justified} [${status}${time}]`, colored: `${justified} [${opts.statusColored ?? status}${time}]` };
}

/** dbt's pluralize: `1 model`, `2 models` (`analysis` → `analyses`). */
function plural(n: number, word: string): string {
  if (n === 1) return `${n} ${word}`;
  return `${n} ${word === 'analysis' ? 'analyses' : `${word}s`}`;
}

/**
 * dbt's `Found …` stat line (compilation.py `print_compile_stats`): node
 * counts by resource type in the manifest's order, then sources, exposures,
 * metrics, macros, groups, semantic models, saved queries and unit tests;
 * zero counts left out; tests are "data tests" (dbt's NodeType.Test plural).
 */
export function foundStats(m: Manifest): string {
  const counts = new Map<string, number>();
  const add = (t: string, n: number) => counts.set(t, (counts.get(t) ?? 0) + n);
  for (const n of Object.values(m.nodes)) if (n.resource_type !== 'test' || n.config.enabled !== false) add(n.resource_type, 1);
  const extra = m as unknown as Record<string, Record<string, unknown> | undefined>;
  add('source', Object.keys(m.sources ?? {}).length);
  add('exposure', Object.keys(extra.exposures ?? {}).length);
  add('metric', Object.keys(extra.metrics ?? {}).length);
  add('macro', Object.keys(m.macros ?? {}).length);
  add('group', Object.keys(extra.groups ?? {}).length);
  add('semantic_model', Object.keys(extra.semantic_models ?? {}).length);
  add('saved_query', Object.keys(extra.saved_queries ?? {}).length);
  add('unit_test', Object.keys(extra.unit_tests ?? {}).length);
  return [...counts]
    .filter(([, n]) => n > 0)
    .map(([t, n]) => (t === 'test' && n !== 1 ? `${n} data tests` : t === 'saved_query' && n !== 1 ? `${n} saved queries` : plural(n, t).replace(/_/g, ' ')))
    .join(', ');
}

/**
 * dbt's `get_counts` for `Finished running …`: `{materialization} model`
 * per model, `project hook` for on-run hooks, else the resource type;
 * sorted by that key, pluralized (`3 table models, 2 data tests`).
 */
export function finishedCounts(items: readonly { resource_type: string; materialized?: string }[]): string {
  const counts = new Map<string, number>();
  for (const i of items) {
    const t = i.resource_type === 'model' ? `${i.materialized ?? 'view'} model` : i.resource_type === 'operation' ? 'project hook' : i.resource_type;
    counts.set(t, (counts.get(t) ?? 0) + 1);
  }
  return [...counts]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([t, n]) => (t === 'test' && n !== 1 ? `${n} data tests` : plural(n, t).replace(/_/g, ' ')))
    .join(', ');
}

/** dbt's `humanize_execution_time`: ` in 0 hours 1 minutes and 2.35 seconds`. */
function humanize(seconds: number): string {
  const minutes = Math.floor(seconds / 60);
  return ` in ${Math.floor(minutes / 60)} hours ${minutes % 60} minutes and ${(seconds - minutes * 60).toFixed(2)} seconds`;
}

/** dbt's node representation: `schema.alias` for a relation, else the name. */
function representation(node: ManifestNode): string {
  return node.relation_name ? `${node.schema}.${node.alias}` : node.name;
}

/** dbt's `describe_node` per runner (ModelRunner, SeedRunner, SnapshotRunner, TestRunner). */
export function describeNode(node: ManifestNode): string {
  switch (node.resource_type) {
    case 'model':
      return `${(node as { language?: string }).language ?? 'sql'} ${node.config.materialized} model ${representation(node)}`;
    case 'seed':
      return `seed file ${representation(node)}`;
    case 'snapshot':
      return `snapshot ${representation(node)}`;
    case 'unit_test':
      return `unit_test ${testName(node)}`;
    default:
      return `${node.resource_type} ${node.name}`;
  }
}

/** TestRunner.describe_node_name: `model::name` for a unit test. */
function testName(node: ManifestNode): string {
  if (node.resource_type !== 'unit_test') return node.name;
  const model = (node as { model?: string }).model;
  return model ? `${model}::${node.name}` : node.name;
}

/** dbt's `node_info` of an event. */
function nodeInfo(node: ManifestNode, status: string, startedAt?: string, finishedAt?: string): Record<string, unknown> {
  return {
    materialized: String(node.config.materialized ?? ''),
    meta: node.meta ?? {},
    node_finished_at: finishedAt ?? '',
    node_name: node.name,
    node_path: node.path,
    node_relation: node.relation_name ? { alias: node.alias, database: node.database, relation_name: node.relation_name, schema: node.schema } : undefined,
    node_started_at: startedAt ?? '',
    node_status: status,
    resource_type: node.resource_type,
    unique_id: node.unique_id,
  };
}

/** Options of {@link createConsole}. */
export interface ConsoleOptions {
  /** Colours: default when stdout is a TTY (and not JSON). */
  color?: boolean;
  /** Only errors and print() output (as --quiet). */
  quiet?: boolean;
  stdout?: NodeJS.WriteStream;
  stderr?: NodeJS.WriteStream;
  /** Clock for timestamps (tests). */
  now?: () => Date;
  /** Seconds a node runs before its first heartbeat line (default: TSDBT_HEARTBEAT_SECONDS, else 30). */
  heartbeatSeconds?: number;
  /** Minimum seconds between progress lines off a terminal (default 5). */
  progressIntervalSeconds?: number;
  /** Progress lines only for phases of at least this many files/nodes (default: TSDBT_PROGRESS_MIN, else 500). */
  progressMinTotal?: number;
}

/** Terminal console. `color` defaults to whether stdout is a TTY. */
export function createConsole(opts: ConsoleOptions = {}): Console {
  const stdout = opts.stdout ?? process.stdout;
  const stderr = opts.stderr ?? process.stderr;
  const now = opts.now ?? (() => new Date());
  const tty = !!stdout.isTTY;
  const invocationId = randomUUID();
  let log: LogOptions = { level: opts.quiet ? 'error' : 'info', quiet: !!opts.quiet, format: 'text', path: null, levelFile: 'debug', formatFile: 'debug' };
  let file: RotatingLogFile | null = null;
  let started = Date.now();
  let command = '';
  let c = new Chalk({ level: (opts.color ?? tty) ? 1 : 0 });
  const heartbeatMs = 1000 * (opts.heartbeatSeconds ?? (Number(process.env.TSDBT_HEARTBEAT_SECONDS) || 30));
  const progressEveryMs = 1000 * (opts.progressIntervalSeconds ?? 5);

  let progressShown = false;
  /** When each progress phase last printed (ms). */
  const progressPhases = new Map<string, number>();
  const progressMin = opts.progressMinTotal ?? (Number(process.env.TSDBT_PROGRESS_MIN) || 500);
  const clearProgress = () => {
    if (progressShown) {
      stdout.write('\r\x1b[2K');
      progressShown = false;
    }
  };
  /** Between the run header and the summary, info() lines are part of the run log (timestamped). */
  let inRun = false;
  const width = () => log.printerWidth ?? DEFAULT_PRINTER_WIDTH;
  const columns = () => (tty && stdout.columns ? stdout.columns : undefined);

  /**
   * Writes one event: to the log file (at its level), and to the console when
   * its level passes. `colored` is the text-mode console line (defaults to
   * msg), `stamp` puts dbt's `HH:MM:SS  ` before it, `toStderr` sends it to
   * stderr in text mode.
   */
  const emit = (e: LogEvent, o: { colored?: string; stamp?: boolean; toStderr?: boolean } = {}) => {
    const at = now();
    if (file && levelPasses(e.level, log.levelFile)) file.write(log.formatFile === 'json' ? jsonLogLine(e, invocationId, at) : debugLogLine(e, invocationId, at));
    const shown = e.print ? log.level !== 'none' : levelPasses(e.level, log.level);
    if (!shown) return;
    clearProgress();
    if (log.format === 'json') {
      stdout.write(jsonLogLine(e, invocationId, at) + '\n');
      return;
    }
    const text = log.format === 'debug' && !e.print ? debugLogLine({ ...e, msg: o.colored ?? e.msg }, invocationId, at).replace(/^\n+/, '') : o.stamp ? `${clockTime(at)}  ${o.colored ?? e.msg}` : (o.colored ?? e.msg);
    (o.toStderr ? stderr : stdout).write(text + '\n');
  };
  const note = (level: EventLevel, msg: string, colored?: string, toStderr = false, name = 'Note', code = 'Z050') =>
    emit({ name, code, level, msg, data: { msg } }, { colored, stamp: inRun, toStderr });
  const runLine = (name: string, code: string, level: EventLevel, msg: string, data: Record<string, unknown>, colored?: string, thread?: string) =>
    emit({ name, code, level, msg, data, thread }, { colored, stamp: true });
  const blank = () => runLine('Formatting', 'Z017', 'info', '', { msg: '' });

  // Nodes seen during the run: their index (dbt's node_index, given at start), for the recap and heartbeats.
  const seen = new Map<string, ManifestNode>();
  const indexOf = new Map<string, number>();
  let nextIndex = 0;
  let targetPath = 'target';
  const running = new Map<string, { node: ManifestNode; since: number; beats: number; total: number; startedAt: string }>();
  let heartbeat: NodeJS.Timeout | null = null;
  const beat = () => {
    const t = Date.now();
    for (const r of running.values()) {
      const elapsed = (t - r.since) / 1000;
      if (elapsed * 1000 < heartbeatMs * (r.beats + 1)) continue;
      r.beats++;
      const secs = Math.floor(elapsed);
      const took = secs >= 60 ? `${Math.floor(secs / 60)}m ${secs % 60}s` : `${secs}s`;
      const f = fancyLine(`STILL RUNNING ${describeNode(r.node)}`, `RUN for ${took}`, { index: indexOf.get(r.node.unique_id), total: r.total, width: width(), columns: columns() });
      runLine('NodeHeartbeat', '', 'info', f.plain, { elapsed: secs, node_info: nodeInfo(r.node, 'started', r.startedAt) }, f.colored);
    }
  };

  const console: Console = {
    invocationId,
    info: (t) => note('info', t),
    notice: (t) => note('info', t, c.dim(t), true),
    warn: (t) => note('warn', t, c.yellow(t), true),
    error: (t) => note('error', t, c.red(t), true),
    debug: (t) => note('debug', t),
    out: (t) => emit({ name: 'PrintEvent', code: 'Z052', level: 'info', msg: t, data: { msg: t }, print: true }),
    print: (t) => emit({ name: 'PrintEvent', code: 'Z052', level: 'info', msg: t, data: { msg: t }, print: true }),

    configureLogging: (o, inv) => {
      log = o;
      command = inv.command;
      started = Date.now();
      if (o.format === 'json') c = new Chalk({ level: 0 });
      file?.close();
      file = o.path ? new RotatingLogFile(join(o.path, 'dbt.log')) : null;
      // dbt's invocation start: MainReportVersion (file separator), then the arguments at debug level.
      emit({ name: 'MainReportVersion', code: 'A001', level: 'debug', msg: `Running with tsdbt (invocation ${invocationId}): ${inv.command}`, data: { version: '', log_version: 3 }, invocationStart: true });
      const args = loggableArgs(inv.args);
      emit({ name: 'MainReportArgs', code: 'A002', level: 'debug', msg: `running tsdbt with arguments ${JSON.stringify(args)}`, data: { args } });
    },

    close: (exitCode) => {
      if (heartbeat) clearInterval(heartbeat);
      heartbeat = null;
      clearProgress();
      const elapsed = (Date.now() - started) / 1000;
      const at = now();
      emit({
        name: 'CommandCompleted',
        code: 'Q039',
        level: 'debug',
        msg: `Command \`tsdbt ${command}\` ${exitCode === 0 ? 'succeeded' : 'failed'} at ${at.toISOString().slice(11, 23)}000 after ${elapsed.toFixed(2)} seconds`,
        data: { command: `tsdbt ${command}`, success: exitCode === 0, completed_at: at.toISOString(), elapsed },
      });
      file?.close();
    },

    runHeader: (h) => {
      inRun = true;
      targetPath = h.targetPath;
      runLine('MainReportVersion', 'A001', 'info', `Running with tsdbt=${h.tsdbtVersion} (dbt=${h.dbtVersion})`, { version: `=${h.dbtVersion}`, log_version: 3 });
      runLine('AdapterRegistered', 'E034', 'info', `Registered adapter: ${h.adapter.type} (${h.adapter.driver})`, { adapter_name: h.adapter.type, adapter_version: h.adapter.driver });
      const stats = foundStats(h.manifest);
      runLine('FoundStats', 'W006', 'info', `Found ${stats}`, { stat_line: stats });
      runLine('Note', 'Z050', 'info', `Target ${h.targetName}: ${h.adapter.type}${h.extension ? ` with ${h.extension}` : ''} at ${h.location}, schema ${h.schema}`, { msg: `target ${h.targetName}` });
      blank();
      runLine('ConcurrencyLine', 'Q027', 'info', `Concurrency: ${h.threads} threads (target='${h.targetName}')`, { num_threads: h.threads, target_name: h.targetName, node_count: h.nodeCount });
      blank();
    },

    hookLine: (msg, status, index, total, executionTime, level = 'info') => {
      const color = status === 'RUN' ? (s: string) => s : status === 'OK' ? c.green : status === 'SKIP' ? c.yellow : c.red;
      const f = fancyLine(msg, status, { index, total, executionTime, width: width(), columns: columns(), statusColored: color(status) });
      runLine(status === 'RUN' ? 'LogHookStartLine' : 'LogHookEndLine', status === 'RUN' ? 'Q032' : 'Q033', level, f.plain, { statement: msg.replace(/^\S+ hook: /, ''), index, total, status, execution_time: executionTime }, f.colored);
    },

    progress: (what, done, total) => {
      if (total < progressMin) return;
      const text = `${what}: ${done} of ${total}`;
      if (!levelPasses('info', log.level) || log.format === 'json') {
        if (done === total) emit({ name: 'Note', code: 'Z050', level: 'debug', msg: text, data: { msg: text } });
        return;
      }
      const t = Date.now();
      const phase = progressPhases.get(what);
      if (tty) {
        // One line, redrawn in place (at most every 100 ms), gone when the phase is done.
        if (done < total && phase !== undefined && t - phase < 100) return;
        progressPhases.set(what, t);
        clearProgress();
        if (done === total) return;
        stdout.write(c.dim(`${clockTime(now())}  ${text}`));
        progressShown = true;
        return;
      }
      // Off a terminal: the phase's first line, then at most one line every few seconds, on stderr so that
      // the data a command prints on stdout (`ls`, `compile`, `show`) stays clean for the next program.
      if (phase !== undefined && t - phase < progressEveryMs) return;
      progressPhases.set(what, t);
      emit({ name: 'Note', code: 'Z050', level: 'info', msg: text, data: { msg: text } }, { stamp: true, toStderr: true });
    },

    nodeWarning: (node, message) => {
      const msg = `Warning in ${node.resource_type} ${node.name} (${node.original_file_path}): ${message}`;
      emit({ name: 'Note', code: 'Z050', level: 'warn', msg, data: { msg } }, { colored: c.yellow(msg), toStderr: true });
    },

    nodeStarted: (node, _index, total) => {
      const index = ++nextIndex;
      indexOf.set(node.unique_id, index);
      seen.set(node.unique_id, node);
      const startedAt = new Date().toISOString();
      running.set(node.unique_id, { node, since: Date.now(), beats: 0, total, startedAt });
      if (!heartbeat && heartbeatMs > 0) {
        heartbeat = setInterval(beat, Math.min(heartbeatMs, 1000));
        heartbeat.unref();
      }
      const f = fancyLine(`START ${describeNode(node)}`, 'RUN', { index, total, width: width(), columns: columns() });
      runLine('LogStartLine', 'Q011', 'info', f.plain, { description: describeNode(node), index, total, node_info: nodeInfo(node, 'started', startedAt) }, f.colored, threadOf(node.unique_id));
    },

    nodeFinished: (node: ManifestNode, r: NodeResult, _index: number, total: number, detail?: NodeDetail) => {
      seen.set(node.unique_id, node);
      const run = running.get(node.unique_id);
      running.delete(node.unique_id);
      let index = indexOf.get(node.unique_id);
      if (index === undefined) indexOf.set(node.unique_id, (index = ++nextIndex));
      const secs = r.execution_time ?? 0;
      const info = nodeInfo(node, r.status, run?.startedAt, new Date().toISOString());
      const thread = r.thread_id && r.thread_id !== 'main' ? r.thread_id : 'MainThread';
      const line = (name: string, code: string, level: EventLevel, msg: string, status: string, color: (s: string) => string, data: Record<string, unknown>, withTime = true) => {
        const f = fancyLine(msg, status, { index, total, executionTime: withTime ? secs : undefined, width: width(), columns: columns(), statusColored: color(status) });
        runLine(name, code, level, f.plain, { ...data, index, total, node_info: info }, f.colored, thread);
      };
      const message = r.adapter_response?._message ?? r.message ?? 'OK';
      const cancelled = r.status === 'error' && r.message === CANCELLED_MESSAGE;
      if (r.status === 'skipped') {
        const msg = ['model', 'seed', 'snapshot'].includes(node.resource_type) ? `SKIP relation ${node.schema}.${node.name}` : `SKIP ${node.resource_type} ${testName(node)}`;
        line('SkippingDetails', 'Q034', 'info', msg, 'SKIP', c.yellow, { resource_type: node.resource_type, schema: node.schema, node_name: node.name }, false);
      } else if (cancelled) {
        line('LogCancelLine', 'Q022', 'error', `CANCEL ${describeNode(node)}`, 'CANCEL', c.yellow, { conn_name: thread });
      } else if (node.resource_type === 'test' || node.resource_type === 'unit_test') {
        const st = r.status === 'error' ? 'ERROR' : r.status === 'pass' ? 'PASS' : r.status === 'warn' ? `WARN ${r.failures ?? ''}`.trim() : `FAIL ${r.failures ?? ''}`.trim();
        const level: EventLevel = r.status === 'pass' ? 'info' : r.status === 'warn' ? 'warn' : 'error';
        line('LogTestResult', 'Q007', level, `${st} ${testName(node)}`, st, r.status === 'pass' ? c.green : r.status === 'warn' ? c.yellow : c.red, {
          name: testName(node),
          status: r.status,
          num_models: total,
          execution_time: secs,
          num_failures: r.failures ?? 0,
        });
      } else if (node.resource_type === 'seed') {
        const err = r.status === 'error';
        line('LogSeedResult', 'Q016', err ? 'error' : 'info', `${err ? 'ERROR loading' : 'OK loaded'} seed file ${node.schema}.${node.alias}`, err ? 'ERROR' : message, err ? c.red : c.green, {
          status: r.status,
          result_message: message,
          execution_time: secs,
          schema: node.schema,
          relation: node.alias,
        });
      } else if (node.resource_type === 'snapshot') {
        const err = r.status === 'error';
        line('LogSnapshotResult', 'Q015', err ? 'error' : 'info', `${err ? 'ERROR snapshotting' : 'OK snapshotted'} ${representation(node)}`, err ? 'ERROR' : message, err ? c.red : c.green, {
          status: r.status,
          description: representation(node),
          result_message: message,
          execution_time: secs,
        });
      } else if (r.status === 'no op' as string) {
        line('LogNodeNoOpResult', 'Q019', 'info', `NO-OP ${describeNode(node)}`, 'NO-OP', c.yellow, { description: describeNode(node), execution_time: secs });
      } else {
        const err = r.status === 'error';
        line('LogModelResult', 'Q012', err ? 'error' : 'info', `${err ? 'ERROR creating' : 'OK created'} ${describeNode(node)}`, err ? 'ERROR' : message, err ? c.red : c.green, {
          description: describeNode(node),
          status: err ? 'error' : message,
          execution_time: secs,
        });
      }
      // tsdbt's detail right after the line (dbt repeats it only in the recap): the error, the unit-test diff, failing rows.
      if (r.status === 'error' && detail?.error && !cancelled) {
        emit({ name: 'RunResultError', code: 'Z024', level: 'error', msg: detail.error.replace(/^/gm, '    '), data: { msg: detail.error }, thread }, { colored: c.red(detail.error.replace(/^/gm, '    ')), toStderr: true });
      }
      if (r.status === 'fail' && node.resource_type === 'unit_test') {
        // As dbt: the rows that differ, `+++` returned but not expected, `---` expected but not returned.
        const text = [`    Failure in unit_test ${node.name} (${where(node)})`, '', ...(r.message ?? '').split('\n').map((l) => (l ? `    ${l}` : ''))].join('\n');
        emit({ name: 'RunResultError', code: 'Z024', level: 'error', msg: text, data: { msg: r.message }, thread }, { colored: c.red(text) });
      }
      if ((r.status === 'fail' || r.status === 'warn') && node.resource_type === 'test') {
        const lines = [`    ${r.message}`, `    defined in ${where(node)}`, `    compiled SQL: ${compiledPath(node, targetPath)}`];
        if (detail?.failingRows?.length) lines.push(formatFailingRows(detail.failingRows, 5).replace(/^/gm, '    '));
        const text = lines.join('\n');
        emit({ name: 'RunResultError', code: 'Z024', level: r.status === 'fail' ? 'error' : 'warn', msg: text, data: { msg: r.message }, thread }, { colored: (r.status === 'fail' ? c.red : c.yellow)(text) });
      }
    },

    summary: (results, elapsed) => {
      if (heartbeat) clearInterval(heartbeat);
      heartbeat = null;
      running.clear();
      inRun = true;
      const items = results.map((r) => {
        const n = seen.get(r.unique_id);
        return n ? { resource_type: n.resource_type, materialized: String(n.config.materialized ?? '') } : { resource_type: r.unique_id.split('.')[0] };
      });
      const stat = finishedCounts(items);
      blank();
      const fin = `Finished running ${stat}${humanize(elapsed)} (${elapsed.toFixed(2)}s).`;
      runLine('FinishedRunningStats', 'E047', 'info', fin, { stat_line: stat, execution: humanize(elapsed), execution_time: elapsed });

      // dbt's print_run_end_messages: errors (and skips that carry an error), then warnings, each with its file and compiled path.
      const errors = results.filter((r) => r.status === 'error' || r.status === 'fail' || (r.status as string) === 'runtime error');
      const warnings = results.filter((r) => r.status === 'warn');
      const interrupted = results.some((r) => r.status === 'error' && r.message === CANCELLED_MESSAGE);
      blank();
      const end = interrupted
        ? 'Exited because of keyboard interrupt'
        : errors.length
          ? `Completed with ${plural(errors.length, 'error')}, 0 partial successes, and ${plural(warnings.length, 'warning')}:`
          : warnings.length
            ? `Completed with ${plural(warnings.length, 'warning')}:`
            : 'Completed successfully';
      runLine('EndOfRunSummary', 'Z030', 'info', end, { num_errors: errors.length, num_warnings: warnings.length, num_partial_success: 0, keyboard_interrupt: interrupted }, interrupted || warnings.length && !errors.length ? c.yellow(end) : errors.length ? c.red(end) : c.green(end));
      const recap = (r: NodeResult, warning: boolean) => {
        const n = seen.get(r.unique_id);
        const type = n?.resource_type ?? r.unique_id.split('.')[0];
        const name = n ? testName(n) : r.unique_id.split('.').slice(2).join('.');
        const path = n?.original_file_path ?? (type === 'operation' ? 'dbt_project.yml' : '');
        blank();
        const head = `${warning ? 'Warning' : 'Failure'} in ${type} ${name} (${path})`;
        runLine(warning ? 'RunResultWarning' : 'RunResultFailure', warning ? 'Z021' : 'Z022', warning ? 'warn' : 'error', head, { resource_type: type, node_name: name, path }, (warning ? c.yellow : c.red)(head));
        const msg = r.message ? r.message.replace(/^/gm, '  ') : `  Status: ${r.status}`;
        runLine(warning ? 'RunResultWarningMessage' : 'RunResultError', warning ? 'Z046' : 'Z024', warning ? 'warn' : 'error', msg, { msg: r.message ?? '' });
        if (n && n.resource_type !== 'seed' && r.compiled_code !== null) {
          blank();
          const p = compiledPath(n, targetPath);
          runLine('SQLCompiledPath', 'Z026', 'info', `  compiled code at ${p}`, { path: p });
        }
      };
      for (const r of errors) recap(r, false);
      for (const r of warnings) recap(r, true);

      const count = (s: string[]) => results.filter((r) => s.includes(r.status)).length;
      const stats = {
        pass: count(['success', 'pass']),
        warn: count(['warn']),
        error: count(['error', 'fail', 'runtime error', 'partial success']),
        skip: count(['skipped']),
        noop: count(['no op']),
        total: results.length,
      };
      blank();
      const done = `Done. PASS=${stats.pass} WARN=${stats.warn} ERROR=${stats.error} SKIP=${stats.skip} NO-OP=${stats.noop} TOTAL=${stats.total}`;
      runLine('StatsLine', 'Z023', 'info', done, { stats }, stats.error ? c.red(done) : stats.warn ? c.yellow(done) : c.green(done));
      if (stats.skip && stats.error && !interrupted) {
        const t = `${stats.skip} node${stats.skip === 1 ? ' was' : 's were'} skipped because an upstream node failed.`;
        runLine('Note', 'Z050', 'info', t, { msg: t }, c.yellow(t));
      }
      inRun = false;
    },
  };
  return console;
}

/** The thread of a node event in the JSON log: unknown at start (the runner names it), so MainThread. */
function threadOf(_id: string): string {
  return 'MainThread';
}

function where(node: ManifestNode): string {
  const line = (node as ManifestNode & { line?: number }).line;
  return line ? `${node.original_file_path}:${line}` : node.original_file_path;
}

/** dbt's `compiled_path`: `<target-path>/compiled/<package>/<original_file_path>` (a generic test: `…/<file>/<test>.sql`). */
function compiledPath(node: ManifestNode, targetPath: string): string {
  const file = node.test_metadata ? `${node.original_file_path}/${node.path}` : node.original_file_path;
  return `${targetPath.replace(/\/+$/, '')}/compiled/${node.package_name}/${file}`;
}
