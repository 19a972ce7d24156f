/**
 * tsdbt's log events and where they go, as dbt's event system (dbt-core's
 * `core/dbt/events/types.py` for the names and fields, dbt-common's
 * `events/logger.py` for the line formats):
 *
 *  - every line the console prints is an {@link LogEvent} with dbt's event
 *    name where dbt has one (`LogStartLine`, `LogModelResult`, `StatsLine`, …),
 *    a level (`debug` < `info` < `warn` < `error`) and a plain-text `msg`;
 *  - the console shows events at `--log-level` (default info; `--quiet` shows
 *    only errors and `print()` output) as text (`12:00:01  msg`) or, with
 *    `--log-format json`, as one JSON object per line
 *    (`{"info": {"name", "level", "msg", "ts", "invocation_id", …}, "data": {…}}`);
 *  - `<log-path>/dbt.log` (default `logs/` in the project) receives every
 *    event at `--log-level-file` (default debug) in dbt's debug format
 *    (`12:00:01.123456 [info ] [Thread-1  ]: msg`, a separator line per
 *    invocation) or JSON (`--log-format-file json`), and is rotated as dbt's
 *    RotatingFileHandler does it: at 10 MB, keeping `dbt.log.1` … `dbt.log.5`.
 *
 * Nothing secret reaches an event: messages are built from names, statuses
 * and database messages (see src/secrets.ts), and the arguments logged at
 * debug level drop every key whose name looks secret.
 */
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { TsdbtError } from '../errors.ts';
import { isSecretName } from '../secrets.ts';

/** An event's level, dbt's `EventLevel` (without `test`). */
export type EventLevel = 'debug' | 'info' | 'warn' | 'error';
/** A `--log-level` value: an event level, or `none` (nothing). */
export type LogLevel = EventLevel | 'none';
/** `--log-format` / `--log-format-file`: dbt's choices (`default` is text on the console, debug in the file). */
export type LogFormat = 'text' | 'debug' | 'json' | 'default';

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, none: 100 };

/** True when an event of `level` passes a `threshold` (`--log-level`). */
export function levelPasses(level: EventLevel, threshold: LogLevel): boolean {
  return RANK[level] >= RANK[threshold];
}

/** One log event: what the console line and the log file line are made of. */
export interface LogEvent {
  /** dbt's event name (`LogStartLine`, `LogModelResult`, `Note`, …). */
  readonly name: string;
  /** dbt's event code (`Q011`), when the event is one of dbt's. */
  readonly code?: string;
  readonly level: EventLevel;
  /** The message as plain text (no colour codes). */
  readonly msg: string;
  /** The event's fields (dbt's proto fields: `index`, `total`, `node_info`, …). */
  readonly data?: Record<string, unknown>;
  /** `print()` output and a command's product (ls lines): no timestamp, shown even with --quiet. */
  readonly print?: boolean;
  /** The thread the event belongs to (`Thread-1` for a node, else `MainThread`). */
  readonly thread?: string;
  /** The invocation's first event: dbt.log gets dbt's separator line before it. */
  readonly invocationStart?: boolean;
}

/** How an invocation logs, after flags and environment variables. */
export interface LogOptions {
  /** Console threshold (`--log-level`, DBT_LOG_LEVEL); `--quiet` makes it `error`. */
  readonly level: LogLevel;
  /** `--quiet` / `-q` / DBT_QUIET: only errors and print() output. */
  readonly quiet: boolean;
  /** Console format: `text` (default) or `json`. `debug` is text with debug-style lines. */
  readonly format: 'text' | 'debug' | 'json';
  /** Directory of dbt.log (absolute), or null for no log file. */
  readonly path: string | null;
  /** File threshold (`--log-level-file`, DBT_LOG_LEVEL_FILE; default debug). */
  readonly levelFile: LogLevel;
  /** File format: `debug` (default) or `json` (`--log-format-file`, DBT_LOG_FORMAT_FILE). */
  readonly formatFile: 'debug' | 'json' | 'text';
  /** Width the dot leaders fill (`--printer-width`, DBT_PRINTER_WIDTH; default 80). */
  readonly printerWidth?: number;
}

/** The flags {@link resolveLogOptions} reads (commander's attribute names). */
export interface LogFlags {
  quiet?: boolean;
  logLevel?: string;
  logLevelFile?: string;
  logFormat?: string;
  logFormatFile?: string;
  logPath?: string;
  printerWidth?: string | number;
  debug?: boolean;
  projectDir?: string;
}

const LEVELS = ['debug', 'info', 'warn', 'error', 'none'] as const;
const FORMATS = ['text', 'debug', 'json', 'default'] as const;

function pick<T extends string>(what: string, value: string | undefined, allowed: readonly T[]): T | undefined {
  if (value === undefined || value === '') return undefined;
  const v = value.toLowerCase();
  if ((allowed as readonly string[]).includes(v)) return v as T;
  throw new TsdbtError('bad-flag', `${what} must be one of ${allowed.join(', ')}, got '${value}'`, { hint: `e.g. ${what} ${allowed[1]}` });
}

const TRUE = /^(1|true|t|yes|y|on)$/i;

/**
 * The invocation's log options from its flags and, for each flag not given,
 * dbt's environment variable (`DBT_QUIET`, `DBT_LOG_LEVEL`,
 * `DBT_LOG_LEVEL_FILE`, `DBT_LOG_FORMAT`, `DBT_LOG_FORMAT_FILE`,
 * `DBT_LOG_PATH`, `DBT_PRINTER_WIDTH`); the flag wins. The log directory
 * defaults to `logs/` in the project directory, and is null (no file) when
 * that directory holds no dbt_project.yml and no `--log-path` was given.
 * `--debug` lowers the console level to debug, as dbt's.
 * @throws TsdbtError `bad-flag` for a level or format dbt does not have.
 */
export function resolveLogOptions(flags: LogFlags, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): LogOptions {
  const quiet = flags.quiet ?? (env.DBT_QUIET ? TRUE.test(env.DBT_QUIET.trim()) : false);
  const level = pick('--log-level', flags.logLevel ?? env.DBT_LOG_LEVEL, LEVELS) ?? (flags.debug ? 'debug' : 'info');
  const levelFile = pick('--log-level-file', flags.logLevelFile ?? env.DBT_LOG_LEVEL_FILE, LEVELS) ?? 'debug';
  const fmt = pick('--log-format', flags.logFormat ?? env.DBT_LOG_FORMAT, FORMATS) ?? 'default';
  const fmtFile = pick('--log-format-file', flags.logFormatFile ?? env.DBT_LOG_FORMAT_FILE, FORMATS) ?? 'default';
  const explicitPath = flags.logPath ?? (env.DBT_LOG_PATH || undefined);
  const projectDir = resolve(cwd, flags.projectDir ?? env.DBT_PROJECT_DIR ?? '.');
  const path = explicitPath ? resolve(cwd, explicitPath) : existsSync(join(projectDir, 'dbt_project.yml')) ? join(projectDir, 'logs') : null;
  const widthRaw = flags.printerWidth ?? env.DBT_PRINTER_WIDTH;
  let printerWidth: number | undefined;
  if (widthRaw !== undefined && widthRaw !== '') {
    printerWidth = Number(widthRaw);
    if (!Number.isInteger(printerWidth) || printerWidth < 20) throw new TsdbtError('bad-flag', `--printer-width must be a whole number of at least 20, got '${widthRaw}'`, { hint: 'e.g. --printer-width 120' });
  }
  return {
    quiet,
    level: quiet && RANK[level] < RANK.error ? 'error' : level,
    format: fmt === 'default' ? 'text' : fmt,
    path,
    levelFile,
    formatFile: fmtFile === 'default' ? 'debug' : fmtFile,
    printerWidth,
  };
}

/** `2026-12-03T15:40:00.123000Z`: dbt's `ts` (microseconds; JavaScript has milliseconds). */
export function isoMicros(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** `15:40:00` (UTC, as dbt's text lines). */
export function clockTime(d: Date): string {
  return d.toISOString().slice(11, 19);
}

/**
 * One JSON log line as dbt writes it (`msg_to_dict`, keys sorted):
 * `{"data": {…}, "info": {"category", "code", "extra", "invocation_id",
 * "level", "msg", "name", "pid", "thread", "ts"}}`.
 */
export function jsonLogLine(e: LogEvent, invocationId: string, at: Date): string {
  const info = {
    category: '',
    code: e.code ?? '',
    extra: {},
    invocation_id: invocationId,
    level: e.level,
    msg: e.msg,
    name: e.name,
    pid: process.pid,
    thread: e.thread ?? 'MainThread',
    ts: isoMicros(at),
  };
  return JSON.stringify(sortKeys({ data: e.data ?? {}, info }));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v as object).sort()) out[k] = sortKeys((v as Record<string, unknown>)[k]);
    return out;
  }
  return v;
}

/**
 * One line of dbt.log in dbt's debug format:
 * `15:40:00.123456 [info ] [Thread-1  ]: msg`; the invocation's first event
 * (dbt's `MainReportVersion`, {@link LogEvent.invocationStart}) is preceded by dbt's separator
 * `\n\n============================== 15:40:00.123456 | <invocation id> ==============================`.
 */
export function debugLogLine(e: LogEvent, invocationId: string, at: Date): string {
  const ts = `${at.toISOString().slice(11, 23)}000`;
  const thread = (e.thread ?? 'MainThread').slice(0, 10).padEnd(10, ' ');
  const sep = '='.repeat(30);
  const head = e.invocationStart ? `\n\n${sep} ${ts} | ${invocationId} ${sep}\n` : '';
  return `${head}${ts} [${e.level.padEnd(5, ' ')}] [${thread}]: ${e.msg}`;
}

/**
 * An append-only log file rotated as Python's RotatingFileHandler (dbt's
 * dbt.log): before a write that would pass `maxBytes`, `dbt.log.4` becomes
 * `dbt.log.5`, …, `dbt.log` becomes `dbt.log.1`, and a new `dbt.log` starts.
 * Writes are synchronous, so lines written before a `process.exit` (second
 * Ctrl-C, a closed pipe) are never lost — the reason for not using a
 * stream-based rotation library here.
 */
export class RotatingLogFile {
  private fd: number | null = null;
  private size = 0;
  /**
   * @param file the log file (its directory is created on the first write)
   * @param maxBytes rotate before passing this size (dbt: 10 MB)
   * @param backups how many rotated files to keep (dbt: 5)
   */
  constructor(
    readonly file: string,
    readonly maxBytes = 10 * 1024 * 1024,
    readonly backups = 5,
  ) {}

  /** Appends `line` and a newline; a file that cannot be written is given up silently after the first failure. */
  write(line: string): void {
    const bytes = Buffer.from(line + '\n', 'utf8');
    try {
      if (this.fd === null) this.open();
      if (this.size > 0 && this.size + bytes.length > this.maxBytes) this.rotate();
      writeSync(this.fd!, bytes);
      this.size += bytes.length;
    } catch {
      this.close();
      this.write = () => undefined; // an unwritable log directory never stops a run
    }
  }

  private open(): void {
    mkdirSync(join(this.file, '..'), { recursive: true });
    this.fd = openSync(this.file, 'a');
    this.size = fstatSync(this.fd).size;
  }

  private rotate(): void {
    this.close();
    if (this.backups > 0) {
      rmSync(`${this.file}.${this.backups}`, { force: true });
      for (let i = this.backups - 1; i >= 1; i--) if (existsSync(`${this.file}.${i}`)) renameSync(`${this.file}.${i}`, `${this.file}.${i + 1}`);
      renameSync(this.file, `${this.file}.1`);
    } else rmSync(this.file, { force: true });
    this.open();
  }

  /** Closes the file (a later write opens it again). */
  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

/**
 * The invocation's arguments for dbt's debug event `MainReportArgs`, without
 * any key whose name looks secret (as run_results.json's `args`).
 */
export function loggableArgs(flags: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(flags)) if (!isSecretName(k) && v !== undefined && typeof v !== 'function') out[k] = v;
  return out;
}
