/**
 * run_results.json kept up to date while an invocation runs, so a run killed
 * outright (`kill -9`, OOM, power to the container) leaves an honest record
 * that `tsdbt retry` follows.
 *
 * dbt writes run_results.json once, at the end; a run killed before that
 * leaves the previous invocation's file, and `dbt retry` then repeats the
 * wrong thing ("nothing to retry"). tsdbt writes it at the start of execution
 * and again (atomically: a temp file renamed over it) when each node starts
 * and finishes, with every node that has no result yet recorded as not done —
 * `skipped` when it had not started, `error` when it was running — and
 * `args.invocation_unfinished: true` until the final write, which is the
 * ordinary one. The run-results v6 schema allows any `args`, so the file
 * stays a valid dbt artifact throughout.
 *
 * Cost: each write serialises every result; writes are spaced so that they
 * take at most ~10% of the run (after a write that took `t` ms, the next
 * waits at least `10·t` ms; a node starting or finishing meanwhile is in the
 * next write, which a timer guarantees). A project of up to 2,000 nodes
 * writes at once at every start and finish: on PGlite a node's statement
 * blocks the event loop, and no timer could fire before a kill.
 */
import { writeRunResults, type NodeResult, type WriteRunResultsOptions } from './run-results.ts';

/** Up to this many nodes, every start and finish is written at once (see ProgressiveRunResults.now). */
const IMMEDIATE_NODES = 2000;

/** Message of a node that had not started when the file was written. */
export const NOT_STARTED_MESSAGE = 'not run: the invocation ended before this node started (run `tsdbt retry`)';
/** Message of a node that was running when the file was written. */
export const INTERRUPTED_MESSAGE =
  'interrupted: the invocation ended while this node was running; its change was rolled back or not begun, the previous relation is kept (run `tsdbt retry`)';

/** The `args` key that marks an invocation still running (or killed). */
export const UNFINISHED_ARG = 'invocation_unfinished';

export interface ProgressiveRunResultsOptions {
  /** The target/ folder. */
  readonly dir: string;
  /** Every node the invocation will run, in order. */
  readonly nodes: readonly { readonly uniqueId: string; readonly relationName: string | null }[];
  /** What {@link writeRunResults} is given, computed at each write (elapsed time changes). */
  readonly options: () => WriteRunResultsOptions;
}

/**
 * Records node starts and results and keeps `<dir>/run_results.json`
 * current. Call {@link start} once before the first node, {@link started} /
 * {@link finished} from the runner's reporter, {@link close} at the end
 * (before the final, ordinary write).
 */
export class ProgressiveRunResults {
  private readonly results = new Map<string, NodeResult>();
  private readonly running = new Set<string>();
  private lastWriteAt = 0;
  private gapMs = 0;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(private readonly opts: ProgressiveRunResultsOptions) {}

  /** Writes the first record: every node not done. */
  start(): void {
    this.write();
  }

  /**
   * A node starts. Written at once while a write is cheap (≤ 5 ms: projects up to a few thousand nodes):
   * the node's first statement may block the event loop (PGlite runs SQL on the main thread), so a
   * deferred write could not happen before a kill. Larger projects defer as for `finished`.
   */
  started(uniqueId: string): void {
    this.running.add(uniqueId);
    this.now();
  }

  finished(result: NodeResult): void {
    this.running.delete(result.unique_id);
    this.results.set(result.unique_id, result);
    this.now();
  }

  /**
   * Writes at once for a project of up to {@link IMMEDIATE_NODES} nodes (each write is small), otherwise
   * soon (spaced writes). At once matters: a node's statement may block the event loop (PGlite runs SQL on
   * the main thread), so a deferred write could not happen before a kill.
   */
  private now(): void {
    if (this.closed) return;
    if (this.opts.nodes.length > IMMEDIATE_NODES) return this.soon();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.write();
  }

  /** Every node, with its result or a not-done placeholder, in plan order. */
  snapshot(): NodeResult[] {
    return this.opts.nodes.map(({ uniqueId, relationName }) => {
      const r = this.results.get(uniqueId);
      if (r) return r;
      const running = this.running.has(uniqueId);
      return {
        unique_id: uniqueId,
        status: running ? 'error' : 'skipped',
        timing: [],
        thread_id: 'main',
        execution_time: 0,
        adapter_response: {},
        message: running ? INTERRUPTED_MESSAGE : NOT_STARTED_MESSAGE,
        failures: null,
        compiled_code: null,
        relation_name: relationName,
      };
    });
  }

  /** Stops writing (the caller writes the final file). */
  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private soon(): void {
    if (this.closed || this.timer) return;
    const wait = this.lastWriteAt + this.gapMs - performance.now();
    if (wait <= 0) this.write();
    else {
      this.timer = setTimeout(() => {
        this.timer = null;
        if (!this.closed) this.write();
      }, wait);
      this.timer.unref?.();
    }
  }

  private write(): void {
    const t0 = performance.now();
    const options = this.opts.options();
    try {
      writeRunResults(this.opts.dir, this.snapshot(), { ...options, args: { ...(options.args ?? {}), [UNFINISHED_ARG]: true } });
    } catch {
      // A record that cannot be written (disk full) must not fail the run: the final write reports it.
    }
    this.lastWriteAt = performance.now();
    this.gapMs = 10 * (this.lastWriteAt - t0);
  }
}
