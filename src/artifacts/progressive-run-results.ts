/**
 * run_results.json kept honest while an invocation runs, so a run killed
 * outright (`kill -9`, OOM, power to the container) leaves a record that
 * `tsdbt retry` follows.
 *
 * dbt writes run_results.json once, at the end; a run killed before that
 * leaves the previous invocation's file, and `dbt retry` then repeats the
 * wrong thing ("nothing to retry"). tsdbt writes it at the start of execution
 * (atomically: a temp file renamed over it) with every node recorded as not
 * done (`skipped`, "not run") and `args.invocation_unfinished: true`, and then
 * appends one line per node start and finish to target/run_results.journal.jsonl
 * (run-journal.ts: the format, and how a reader applies it). The final write,
 * at the end of the invocation, is the ordinary one and drops the mark.
 * Whoever reads an unfinished run_results.json through `readRunResults`
 * (`tsdbt retry`, `result:` selection, docs, the API) sees the journal
 * applied: finished nodes with their results, the node that was running as
 * `error` ("interrupted"), the rest `skipped`. A reader of the bare file sees
 * every node not done, which overstates what is left, never what is done.
 * The run-results v6 schema allows any `args`, so the file stays a valid dbt
 * artifact throughout.
 *
 * Cost: one small synchronous append per start and finish (the write is
 * complete before the node's first statement, which on PGlite blocks the
 * event loop), so the record costs O(1) per node rather than rewriting every
 * node's result each time (O(n²) over a run).
 */
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { writeRunResults, resultForJson, type NodeResult, type WriteRunResultsOptions } from './run-results.ts';
import { RUN_JOURNAL_FILE, UNFINISHED_ARG, notDoneResult } from './run-journal.ts';

export { UNFINISHED_ARG, NOT_STARTED_MESSAGE, INTERRUPTED_MESSAGE, RUN_JOURNAL_FILE } from './run-journal.ts';

export interface ProgressiveRunResultsOptions {
  /** The target/ folder. */
  readonly dir: string;
  /** Every node the invocation will run, in order. */
  readonly nodes: readonly { readonly uniqueId: string; readonly relationName: string | null }[];
  /** What {@link writeRunResults} is given (its `invocationId` also names the journal's invocation). */
  readonly options: () => WriteRunResultsOptions;
}

/**
 * Records node starts and results: `<dir>/run_results.json` written once as
 * unfinished by {@link start}, then `<dir>/run_results.journal.jsonl` appended
 * to by {@link started} / {@link finished} (called from the runner's
 * reporter); {@link close} at the end, before the final, ordinary write.
 * File system errors (disk full) never fail the run: the final write reports them.
 */
export class ProgressiveRunResults {
  private readonly results = new Map<string, NodeResult>();
  private readonly running = new Set<string>();
  private fd: number | null = null;
  private closed = false;

  constructor(private readonly opts: ProgressiveRunResultsOptions) {}

  /** Starts a new journal for this invocation and writes the first record: every node not done. */
  start(): void {
    const options = this.opts.options();
    try {
      // The journal first: were the process killed between the two writes, the previous record ignores it (another invocation id).
      mkdirSync(this.opts.dir, { recursive: true });
      this.fd = openSync(join(this.opts.dir, RUN_JOURNAL_FILE), 'w');
      writeSync(this.fd, JSON.stringify({ journal: 1, invocation_id: options.invocationId ?? null }) + '\n');
      writeRunResults(this.opts.dir, this.snapshot(), { ...options, args: { ...(options.args ?? {}), [UNFINISHED_ARG]: true } });
    } catch {
      // A record that cannot be written must not fail the run: the final write reports it.
    }
  }

  /** A node starts: appended at once (before its first statement, which may block the event loop on PGlite). */
  started(uniqueId: string): void {
    this.running.add(uniqueId);
    this.append({ started: uniqueId });
  }

  /** A node finished with `result`. */
  finished(result: NodeResult): void {
    this.running.delete(result.unique_id);
    this.results.set(result.unique_id, result);
    this.append({ finished: resultForJson(result) });
  }

  /** Every node, with its result or a not-done placeholder, in plan order. */
  snapshot(): NodeResult[] {
    return this.opts.nodes.map(({ uniqueId, relationName }) => this.results.get(uniqueId) ?? notDoneResult(uniqueId, relationName, this.running.has(uniqueId)));
  }

  /** Stops recording (the caller writes the final file). */
  close(): void {
    this.closed = true;
    if (this.fd !== null) {
      try {
        closeSync(this.fd);
      } catch {
        /* already gone */
      }
    }
    this.fd = null;
  }

  private append(entry: unknown): void {
    if (this.closed || this.fd === null) return;
    try {
      writeSync(this.fd, JSON.stringify(entry) + '\n');
    } catch {
      // see start()
    }
  }
}
