/**
 * target/run_results.journal.jsonl: the append-only journal of an invocation
 * that is still running (or was killed), and how a reader folds it into the
 * unfinished run_results.json it belongs to.
 *
 * Format (JSON Lines, one object a line, written by ProgressiveRunResults):
 *   {"journal":1,"invocation_id":"<id>"}      first line: whose journal this is
 *   {"started":"model.p.a"}                    a node started
 *   {"finished":{…a run_results.json result…}} a node finished (its full result)
 * The journal applies only to a run_results.json whose `args.invocation_unfinished`
 * is true and whose `metadata.invocation_id` is the journal's; anything else
 * (a finished record, another invocation's journal) ignores it. A line cut short
 * by a kill ends the journal (the lines before it count).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NodeResult, RunResults } from './run-results.ts';

/** The journal's file name, beside run_results.json in target/. */
export const RUN_JOURNAL_FILE = 'run_results.journal.jsonl';

/** The `args` key that marks an invocation still running (or killed). */
export const UNFINISHED_ARG = 'invocation_unfinished';

/** Message of a node that had not started when the invocation ended. */
export const NOT_STARTED_MESSAGE = 'not run: the invocation ended before this node started (run `tsdbt retry`)';
/** Message of a node that was running when the invocation ended. */
export const INTERRUPTED_MESSAGE =
  'interrupted: the invocation ended while this node was running; its change was rolled back or not begun, the previous relation is kept (run `tsdbt retry`)';

/** The not-done placeholder of a node: `error` (interrupted) when it was running, else `skipped` (not started). */
export function notDoneResult(uniqueId: string, relationName: string | null, running: boolean): NodeResult {
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
}

/**
 * `rr` (read from `<dir>/run_results.json`) with `<dir>`'s journal applied
 * when `rr` is an unfinished record and the journal is its invocation's:
 * started nodes without a result become interrupted (`error`), finished ones
 * get their result. Otherwise `rr` unchanged. Never throws for a missing or
 * damaged journal (the unfinished record alone is still honest: nothing in it
 * is claimed done).
 */
export function applyRunJournal(dir: string, rr: RunResults): RunResults {
  if ((rr.args as Record<string, unknown> | undefined)?.[UNFINISHED_ARG] !== true) return rr;
  const path = join(dir, RUN_JOURNAL_FILE);
  if (!existsSync(path)) return rr;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return rr;
  }
  const lines = text.split('\n');
  let header: { journal?: unknown; invocation_id?: unknown };
  try {
    header = JSON.parse(lines[0]!);
  } catch {
    return rr;
  }
  if (header.journal !== 1 || (header.invocation_id ?? null) !== (rr.metadata.invocation_id ?? null)) return rr;
  const index = new Map(rr.results.map((r, i) => [r.unique_id, i]));
  const done = new Set<string>();
  const put = (r: NodeResult) => {
    const i = index.get(r.unique_id);
    if (i === undefined) index.set(r.unique_id, rr.results.push(r) - 1);
    else rr.results[i] = r;
  };
  for (const line of lines.slice(1)) {
    if (!line) continue;
    let entry: { started?: unknown; finished?: NodeResult };
    try {
      entry = JSON.parse(line);
    } catch {
      break; // a line cut short by the kill: the journal ends here
    }
    if (typeof entry.started === 'string') {
      if (done.has(entry.started)) continue;
      const old = rr.results[index.get(entry.started) ?? -1];
      put(notDoneResult(entry.started, old?.relation_name ?? null, true));
    } else if (entry.finished && typeof entry.finished.unique_id === 'string') {
      done.add(entry.finished.unique_id);
      put(entry.finished);
    }
  }
  return rr;
}
