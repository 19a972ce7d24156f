/**
 * How a synchronous Jinja render asks the database questions: **replay**.
 *
 * nunjucks renders synchronously; `run_query`, `adapter.get_columns_in_relation`
 * and the other introspection members are asynchronous database work. A
 * template member that needs the database calls {@link ReplayLog.call}. The
 * first time a render reaches a given call, the call is not answered: the
 * render is abandoned by throwing {@link NeedsDatabase}, the caller
 * ({@link renderWithDatabase}) runs the query on the node's own connection,
 * appends the answer to the log and renders again from the start. On that
 * render the same call, reached in the same order, is answered from the log,
 * and the render goes on to the next unanswered call. A node that makes k
 * database calls renders k + 1 times; one that makes none renders once, as
 * before. Every statement runs exactly once, in template order, on the
 * connection the node will be built on (dbt's semantics for `statement` and
 * `run_query` side effects).
 *
 * Why not the alternatives (measured and argued in src/compile/README.md):
 * nunjucks' async mode awaits only async filters and `asyncEach`, not global
 * functions, and would change every compiled template; a worker thread with
 * `Atomics.wait` cannot use the node's own connection (nor PGlite's one
 * session, which lives on the main thread).
 *
 * Renders must be deterministic given the answers: each call carries a key
 * (its kind and arguments); if the k-th call of a re-render has another key
 * than the k-th answer, the log from there on is dropped and the new call is
 * asked (a warning names the node: statements already run are not undone).
 */

/** The database, as the template members see it: one connection's statements. */
export interface LiveDatabase {
  /** Runs one statement; rows parsed as node-postgres parses them. Rejects with a DatabaseError. */
  query(sql: string, params?: readonly unknown[]): Promise<{
    rows: Record<string, unknown>[];
    rowCount: number | null;
    command: string;
    fields: readonly { name: string; dataTypeID: number }[];
  }>;
  /**
   * Runs a statement with dbt's `auto_begin=False` where the database keeps a transaction
   * (a custom materialization's session): it does not open one. Absent: `query` is used.
   */
  queryNoBegin?(sql: string): ReturnType<LiveDatabase['query']>;
}

/**
 * Thrown (synchronously, through the renderer) by a template member whose
 * answer is not in the log yet. Not an Error: it is control flow, and the
 * Jinja layer wraps it as the `cause` of the error it reports.
 */
export class NeedsDatabase {
  constructor(
    /** What was asked, for messages: `run_query`, `adapter.get_relation`, … */
    readonly what: string,
    /** Identity of the call: kind and arguments. */
    readonly key: string,
    /** Does the work on the node's connection; its result is the call's answer. */
    readonly run: (db: LiveDatabase) => Promise<unknown>,
  ) {}
}

/** Finds a NeedsDatabase thrown inside a render, through the Jinja layer's wrappers (`cause`, `error`). */
export function findNeedsDatabase(e: unknown): NeedsDatabase | undefined {
  for (let x: unknown = e, depth = 0; x && typeof x === 'object' && depth < 20; depth++) {
    if (x instanceof NeedsDatabase) return x;
    const o = x as { cause?: unknown; error?: unknown };
    x = o.cause ?? o.error;
  }
  return undefined;
}

/**
 * The answers of one node's database calls, in the order the render asked
 * them. `connected` false: no database (the up-front compile pass), so every
 * call throws NeedsDatabase and the node is compiled at run time instead.
 */
export class ReplayLog {
  private readonly answers: { key: string; value: unknown }[] = [];
  private cursor = 0;
  /** Database calls made through this log (answered or not), for callers that cache renders which made none. */
  calls = 0;
  /** Keys that changed between renders (a non-deterministic template), for a warning. */
  readonly divergences: string[] = [];

  constructor(readonly connected: boolean) {}

  /** Starts a new render: answers are handed out from the first again. */
  rewind(): void {
    this.cursor = 0;
  }

  /** How many database calls have been answered so far. */
  get size(): number {
    return this.answers.length;
  }

  /**
   * The answer of this call, or throws NeedsDatabase for a call not answered yet.
   * @param what the member's name, for messages
   * @param key the call's identity (kind + arguments)
   * @param run the database work, run once by renderWithDatabase
   */
  call<T>(what: string, key: string, run: (db: LiveDatabase) => Promise<T>): T {
    this.calls++;
    if (this.cursor < this.answers.length) {
      const a = this.answers[this.cursor];
      if (a.key === key) {
        this.cursor++;
        return a.value as T;
      }
      this.divergences.push(`${what}: ${key.slice(0, 80)}`);
      this.answers.length = this.cursor;
    }
    throw new NeedsDatabase(what, key, run);
  }

  /** Records the answer to the call that suspended the render. @internal */
  answer(key: string, value: unknown): void {
    this.answers.push({ key, value });
  }
}

/** At most this many database calls in one node's render (a runaway loop of run_query otherwise never ends). */
export const MAX_DATABASE_CALLS = 10_000;

/**
 * Renders `render(log)` to completion against the database: each time the
 * render stops at an unanswered call, the call runs on `db` and the render
 * starts again (see the file header).
 *
 * @returns the render's result and how many renders it took.
 * @throws whatever the render throws (a TsdbtError for template errors), or
 *   the DatabaseError of a call, unchanged.
 */
export async function renderWithDatabase<T>(render: (log: ReplayLog) => T, db: LiveDatabase): Promise<{ value: T; renders: number; log: ReplayLog }> {
  const log = new ReplayLog(true);
  for (let renders = 1; ; renders++) {
    log.rewind();
    try {
      return { value: render(log), renders, log };
    } catch (e) {
      const need = findNeedsDatabase(e);
      if (!need) throw e;
      if (log.size >= MAX_DATABASE_CALLS) throw e;
      log.answer(need.key, await need.run(db));
    }
  }
}
