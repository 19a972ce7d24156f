/**
 * target/run_results.json in dbt's run-results v6 shape, and reading it
 * back (for `tsdbt retry` and `result:` selection).
 */
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { TsdbtError } from '../errors.ts';
import { isSecretName } from '../secrets.ts';
import { readJson, writeFileAtomic } from './manifest-json.ts';
import { RUN_RESULTS_SCHEMA_VERSION } from './schema-keys.ts';
import { DBT_VERSION } from '../dbt-version.ts';
import { applyRunJournal } from './run-journal.ts';

/** The file name dbt uses. */
export const RUN_RESULTS_FILE = 'run_results.json';

/** The dbt version tsdbt claims in artifacts (the dbt behaviour it follows; src/dbt-version.ts). */
export const DBT_COMPAT_VERSION = DBT_VERSION;

/** Status of a model, seed or snapshot (dbt's RunStatus). */
export type NodeStatus = 'success' | 'error' | 'skipped' | 'partial success' | 'no-op';
/** Status of a data test (dbt's TestStatus). */
export type TestStatus = 'pass' | 'error' | 'fail' | 'warn' | 'skipped';
/** Status of a source freshness check or an operation (dbt's FreshnessStatus). */
export type FreshnessStatus = 'pass' | 'warn' | 'error' | 'runtime error';
export type ResultStatus = NodeStatus | TestStatus | FreshnessStatus;

/** One timed phase of a node: dbt writes `compile` then `execute`. ISO-8601 UTC timestamps. */
export interface TimingInfo {
  name: 'compile' | 'execute' | string;
  started_at: string | null;
  completed_at: string | null;
}

/** What the database said (dbt's AdapterResponse): e.g. `{ _message: 'INSERT 0 42', code: 'INSERT', rows_affected: 42 }`. */
export interface AdapterResponse {
  _message?: string;
  code?: string;
  rows_affected?: number;
  [key: string]: unknown;
}

/** Microbatch results; tsdbt writes null. */
export interface BatchResults {
  successful: [string, string][];
  failed: [string, string][];
}

/**
 * The result of running one node, as one entry of run_results.json
 * `results` (dbt's RunResultOutput). `status` follows dbt per resource type:
 * models/seeds/snapshots success|error|skipped, tests pass|fail|warn|error|skipped.
 * Fields a runner leaves out are written with dbt's defaults (null, [], {}).
 */
export interface NodeResult {
  unique_id: string;
  status: ResultStatus;
  timing: TimingInfo[];
  /** e.g. `Thread-1 (worker)`. */
  thread_id: string;
  /** Seconds. */
  execution_time: number;
  adapter_response: AdapterResponse;
  message: string | null;
  /** Rows returned by a data test; null for other nodes. */
  failures: number | null;
  /** Whether the node's code was compiled; derived from compiled_code when absent. */
  compiled?: boolean | null;
  compiled_code: string | null;
  relation_name: string | null;
  batch_results?: BatchResults | null;
}

/** run_results.json as read back. */
export interface RunResults {
  metadata: {
    dbt_schema_version: string;
    dbt_version?: string;
    generated_at?: string;
    invocation_id?: string | null;
    invocation_started_at?: string | null;
    env?: Record<string, string>;
  };
  results: NodeResult[];
  /** Seconds. */
  elapsed_time: number;
  args?: Record<string, unknown>;
}

export interface WriteRunResultsOptions {
  /** The command's flags (dbt writes e.g. `which`, `select`); secrets are removed, see {@link redactArgs}. */
  args?: Record<string, unknown>;
  /** Seconds the whole invocation took. */
  elapsedTime: number;
  invocationId?: string | null;
  /** ISO-8601 time or Date; default now. */
  generatedAt?: string | Date;
  invocationStartedAt?: string | Date | null;
  dbtVersion?: string;
  /** dbt writes `DBT_ENV_CUSTOM_ENV_*` variables here. */
  env?: Record<string, string>;
}

/**
 * A copy of `args` without any key whose name contains PASSWORD, SECRET,
 * TOKEN or KEY (case-insensitive), at any depth (objects and arrays): a
 * structural mask, values are never searched. `undefined` values and
 * functions are dropped.
 */
export function redactArgs(args: Record<string, unknown>): Record<string, unknown> {
  return redactValue(args, new WeakSet()) as Record<string, unknown>;
}

function redactValue(value: unknown, seen: WeakSet<object>): unknown {
  if (value === null || typeof value !== 'object') return typeof value === 'function' ? undefined : value;
  if (seen.has(value)) return null;
  seen.add(value);
  if (Array.isArray(value)) return value.map((v) => redactValue(v, seen) ?? null);
  if (value instanceof Date) return value.toISOString();
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (isSecretName(k)) continue;
    const r = redactValue(v, seen);
    if (r !== undefined) out[k] = r;
  }
  return out;
}

function iso(t: string | Date | null | undefined): string | null {
  if (t === undefined || t === null) return null;
  return typeof t === 'string' ? t : t.toISOString();
}

/** One result as run_results.json writes it (dbt's field order and defaults); a result already in this shape maps to itself. */
export function resultForJson(r: NodeResult): NodeResult {
  const compiledCode = r.compiled_code ?? null;
  return {
    status: r.status,
    timing: (r.timing ?? []).map((t) => ({ name: t.name, started_at: t.started_at ?? null, completed_at: t.completed_at ?? null })),
    thread_id: r.thread_id ?? 'main',
    execution_time: Number.isFinite(r.execution_time) ? r.execution_time : 0,
    adapter_response: r.adapter_response ?? {},
    message: r.message == null ? null : String(r.message),
    failures: r.failures ?? null,
    unique_id: r.unique_id,
    compiled: r.compiled ?? (compiledCode !== null ? true : null),
    compiled_code: compiledCode,
    relation_name: r.relation_name ?? null,
    batch_results: r.batch_results ?? null,
  };
}

/**
 * Writes `<dir>/run_results.json` (creating `dir`) in dbt's run-results v6
 * shape (`metadata.dbt_schema_version` =
 * https://schemas.getdbt.com/dbt/run-results/v6.json). `args` pass through
 * {@link redactArgs}. Returns the file's path.
 */
export function writeRunResults(dir: string, results: readonly NodeResult[], options: WriteRunResultsOptions): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, RUN_RESULTS_FILE);
  const doc = {
    metadata: {
      dbt_schema_version: RUN_RESULTS_SCHEMA_VERSION,
      dbt_version: options.dbtVersion ?? DBT_COMPAT_VERSION,
      generated_at: iso(options.generatedAt) ?? new Date().toISOString(),
      invocation_id: options.invocationId ?? null,
      invocation_started_at: iso(options.invocationStartedAt),
      env: options.env ?? {},
    },
    results: results.map(resultForJson),
    elapsed_time: options.elapsedTime,
    args: redactArgs(options.args ?? {}),
  };
  writeFileAtomic(path, JSON.stringify(doc));
  return path;
}

/**
 * Reads run_results.json from `path` (the file or the folder holding it),
 * for `tsdbt retry` and `result:` selectors. An unfinished record (a run
 * still going, or killed: `args.invocation_unfinished`) comes back with its
 * invocation's journal applied (run-journal.ts). Throws TsdbtError
 * `state-not-found` when the file does not exist, `bad-artifact` when it
 * is not a dbt run-results artifact.
 */
export function readRunResults(path: string): RunResults {
  const file = existsSync(path) && statSync(path).isDirectory() ? join(path, RUN_RESULTS_FILE) : path;
  const data = readJson(file, 'run_results.json', 'run a tsdbt command (run, build, test, seed) first, or point --state at a target/ folder that holds run_results.json') as Partial<RunResults>;
  const version = data?.metadata?.dbt_schema_version ?? '';
  if (!Array.isArray(data?.results) || !/\/run-results\/v\d+\.json$/.test(version)) {
    throw new TsdbtError('bad-artifact', `${file} is not a dbt run_results.json (no run-results schema version, or no results list)`, {
      file,
      hint: 'point at the target/ folder of an earlier tsdbt or dbt run',
    });
  }
  for (const r of data.results) {
    r.message ??= null;
    r.failures ??= null;
    r.compiled_code ??= null;
    r.relation_name ??= null;
    r.timing ??= [];
    r.adapter_response ??= {};
  }
  // An unfinished record (a run still going, or killed): its journal says what was done since (run-journal.ts).
  return applyRunJournal(dirname(file), data as RunResults);
}
