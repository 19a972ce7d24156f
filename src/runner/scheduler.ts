/**
 * A DAG scheduler: runs tasks as soon as their dependencies finished, on up
 * to `concurrency` workers, and skips every task downstream of a failure
 * (dbt's graph queue plus SQLMesh-style skip propagation).
 *
 * A failed node never crashes the run: `execute` returning 'fail' (or
 * throwing) marks the task failed and its descendants skipped; other branches
 * carry on (unless `failFast`).
 */

export interface Task {
  readonly id: string;
  /** Ids of tasks (in this same list) that must succeed first. Unknown ids are ignored. */
  readonly deps: readonly string[];
  /** Lower runs first among ready tasks (e.g. topological index). */
  readonly priority?: number;
}

/** 'ok' lets dependants run; 'fail' skips them; 'warn' is 'ok' for scheduling. */
export type TaskOutcome = 'ok' | 'warn' | 'fail';

export interface SchedulerOptions {
  readonly concurrency: number;
  /** Stop starting new tasks after the first failure; pending ones are reported as skipped. */
  readonly failFast?: boolean;
  /** Aborting stops starting new tasks; running ones are left to `execute` to cancel. */
  readonly signal?: AbortSignal;
}

export interface SchedulerCallbacks {
  execute(id: string): Promise<TaskOutcome>;
  /** Called once per task that will not run; `cause` is the failed upstream id, or null (fail-fast / abort). */
  skip(id: string, cause: string | null): void;
}

/**
 * Runs every task once, respecting dependencies. Resolves when all tasks have
 * run or been skipped.
 */
export async function runTasks(tasks: readonly Task[], opts: SchedulerOptions, cb: SchedulerCallbacks): Promise<void> {
  const byId = new Map(tasks.map((t) => [t.id, t]));
  const waiting = new Map<string, number>();
  const children = new Map<string, string[]>();
  for (const t of tasks) {
    let n = 0;
    for (const d of new Set(t.deps)) {
      if (!byId.has(d) || d === t.id) continue;
      n++;
      (children.get(d) ?? children.set(d, []).get(d)!).push(t.id);
    }
    waiting.set(t.id, n);
  }
  const ready: Task[] = tasks.filter((t) => waiting.get(t.id) === 0);
  const done = new Set<string>();
  let stopped = false;
  let running = 0;

  const sortReady = () => ready.sort((a, b) => (a.priority ?? 0) - (b.priority ?? 0));

  const skipDownstream = (id: string, cause: string | null) => {
    const stack = [...(children.get(id) ?? [])];
    while (stack.length) {
      const c = stack.pop()!;
      if (done.has(c)) continue;
      done.add(c);
      cb.skip(c, cause);
      stack.push(...(children.get(c) ?? []));
    }
  };

  await new Promise<void>((resolve) => {
    const finishIfDone = () => {
      if (running === 0 && (ready.length === 0 || stopped)) {
        if (stopped) {
          for (const t of tasks) {
            if (!done.has(t.id)) {
              done.add(t.id);
              cb.skip(t.id, null);
            }
          }
        }
        resolve();
        return true;
      }
      return false;
    };
    const pump = () => {
      if (opts.signal?.aborted) stopped = true;
      sortReady();
      while (!stopped && running < Math.max(1, opts.concurrency) && ready.length) {
        const t = ready.shift()!;
        if (done.has(t.id)) continue;
        running++;
        cb.execute(t.id)
          .catch((): TaskOutcome => 'fail')
          .then((outcome) => {
            running--;
            done.add(t.id);
            if (outcome === 'fail') {
              skipDownstream(t.id, t.id);
              if (opts.failFast) stopped = true;
            } else {
              for (const c of children.get(t.id) ?? []) {
                const left = waiting.get(c)! - 1;
                waiting.set(c, left);
                if (left === 0 && !done.has(c)) ready.push(byId.get(c)!);
              }
            }
            if (!finishIfDone()) pump();
          });
      }
      finishIfDone();
    };
    opts.signal?.addEventListener('abort', () => {
      stopped = true;
      finishIfDone();
    });
    pump();
  });
}
