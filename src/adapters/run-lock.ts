/**
 * The run lock: one tsdbt run / seed / build at a time per target (database +
 * target schema), so two schedulers that overlap never interleave their
 * swaps. dbt has nothing like it; SQLMesh and Dataform rely on their
 * orchestrators.
 *
 * On PostgreSQL it is a session-level advisory lock,
 * `pg_try_advisory_lock(RUN_LOCK_CLASS, key)` with `key` derived from
 * "<database>/<schema>" ({@link runLockKey}) for the target schema and every
 * other schema the run writes (`schemas`), held by a dedicated connection
 * (not one of the `threads` pool connections) for the whole run. The server
 * releases it by itself when that connection ends, so a crashed or killed run
 * never leaves it behind. The holder's connection has `application_name`
 * `tsdbt run-lock pid=<pid> host=<host>`, which is how a waiting run names
 * the process it waits for.
 *
 * Waiting polls `pg_try_advisory_lock` every 500 ms (a blocking
 * `pg_advisory_lock` could not be interrupted by Ctrl-C as simply), so it is
 * not first-come first-served when three runs queue.
 *
 * PGlite needs none of this: its data directory lock already admits one
 * process at a time.
 */
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { TsdbtError } from '../errors.ts';

/** First key of the two-int advisory lock: "tsdb" in ASCII (the swap lock uses the one-bigint form, so the two never clash). */
export const RUN_LOCK_CLASS = 0x74736462;

/** Second key: 31 bits of sha256("<database>/<schema>"), non-negative so pg_locks.objid shows it as is. */
export function runLockKey(database: string, schema: string): number {
  return createHash('sha256').update(`${database}/${schema}`, 'utf8').digest().readUInt32BE(0) & 0x7fffffff;
}

/** Who holds the lock, as far as the server can tell. */
export interface RunLockHolder {
  /** Server process id of the holder's connection. */
  readonly backendPid: number;
  /** The holding tsdbt process (from its application_name), when it is one. */
  readonly clientPid: number | null;
  readonly clientHost: string | null;
  /** When the holder's connection was opened (ISO 8601), when known. */
  readonly since: string | null;
  /** The schema whose lock it holds (one of those asked for). */
  readonly schema?: string;
}

/** A held run lock. */
export interface RunLock {
  /** Releases the lock and closes its connection. Idempotent. */
  release(): Promise<void>;
}

export interface RunLockOptions {
  /** The target schema: always locked (so runs of older tsdbt versions, which lock only it, still exclude this one). */
  readonly schema: string;
  /**
   * Every schema the run writes (the schemas of the selected nodes: custom schemas,
   * the test audit schema, a `generate_schema_name` that sends two targets to one
   * schema). All of them are locked together, or none: a run never holds some
   * while waiting for others, so two runs cannot wait for each other.
   */
  readonly schemas?: readonly string[];
  readonly database: string;
  /** Wait for the holder (true) or fail at once with `run-locked` (false, `--no-wait`). */
  readonly wait: boolean;
  /** Called once, when the lock is taken by someone else and we start waiting. */
  readonly onWait?: (holder: RunLockHolder | null) => void;
  /** Aborting stops the wait (the promise rejects with `run-lock-cancelled`). */
  readonly signal?: AbortSignal;
  /**
   * Called when the lock's connection is lost during the run (the server
   * restarted, or an administrator terminated it): from then on another run
   * may start. tsdbt reports it; nodes already running fail on their own.
   */
  readonly onLost?: (error: Error) => void;
  /** Poll interval while waiting, ms (default 500). */
  readonly pollMs?: number;
}

/** Reads the holder of (RUN_LOCK_CLASS, key) from pg_locks / pg_stat_activity. */
async function holderOf(client: pg.Client, key: number): Promise<RunLockHolder | null> {
  const r = await client.query<{ pid: number; application_name: string | null; backend_start: Date | null }>(
    `select l.pid, a.application_name, a.backend_start
       from pg_catalog.pg_locks l
       left join pg_catalog.pg_stat_activity a on a.pid = l.pid
      where l.locktype = 'advisory' and l.granted and l.objsubid = 2
        and l.classid = $1::int8::oid and l.objid = $2::int8::oid
      limit 1`,
    [RUN_LOCK_CLASS, key],
  );
  const row = r.rows[0];
  if (!row) return null;
  const m = /pid=(\d+)(?:\s+host=(\S+))?/.exec(row.application_name ?? '');
  return {
    backendPid: Number(row.pid),
    clientPid: m ? Number(m[1]) : null,
    clientHost: m?.[2] ?? null,
    since: row.backend_start ? new Date(row.backend_start).toISOString() : null,
  };
}

/** "pid 1234 on host, since 12:00:01" — for messages. */
export function describeHolder(h: RunLockHolder | null): string {
  if (!h) return 'unknown process';
  const who = h.clientPid !== null ? `pid ${h.clientPid}${h.clientHost ? ` on ${h.clientHost}` : ''}` : `server pid ${h.backendPid}, not a tsdbt run-lock connection`;
  return h.since ? `${who}, since ${h.since.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}` : who;
}

/** The schemas to lock (target schema + `schemas`), de-duplicated and sorted, with their keys. */
export function runLockTargets(database: string, schema: string, schemas: readonly string[] = []): { schema: string; key: number }[] {
  const out = new Map<number, string>();
  for (const s of [...new Set([schema, ...schemas])].sort()) if (!out.has(runLockKey(database, s))) out.set(runLockKey(database, s), s);
  return [...out].map(([key, s]) => ({ schema: s, key }));
}

/**
 * Takes the run lock of `opts.database` and every schema in `opts.schema` +
 * `opts.schemas` on a new connection made with `config` (the pool's client
 * config). All locks are tried in a fixed order on that one connection; if
 * one is held by another run, those already taken are released before
 * waiting, so two runs with overlapping schema sets never deadlock.
 *
 * @throws TsdbtError `run-locked` (kind 'runtime', exit code 1) when another
 *   run holds one of them and `wait` is false (the message names the schema and
 *   the holder); `run-lock-cancelled` when `signal` aborted the wait; the
 *   connection's errors as they are.
 */
export async function acquireRunLock(config: pg.ClientConfig, opts: RunLockOptions): Promise<RunLock> {
  const targets = runLockTargets(opts.database, opts.schema, opts.schemas);
  const client = new pg.Client({
    ...config,
    application_name: `tsdbt run-lock pid=${process.pid} host=${hostname().replace(/\s+/g, '_')}`.slice(0, 63),
  });
  let released = false;
  let lost = false;
  const onLost = (err: Error) => {
    if (released || lost) return;
    lost = true;
    opts.onLost?.(err);
  };
  client.on('error', onLost);
  client.on('end', () => onLost(new Error('the run-lock connection was closed by the server')));
  await client.connect();
  const unlock = async (keys: readonly number[]) => {
    for (const key of keys) await client.query('select pg_catalog.pg_advisory_unlock($1::int4, $2::int4)', [RUN_LOCK_CLASS, key]).catch(() => undefined);
  };
  const release = async () => {
    if (released) return;
    released = true;
    await unlock(targets.map((t) => t.key));
    await client.end().catch(() => undefined);
  };
  try {
    let announced = false;
    for (;;) {
      const taken: number[] = [];
      let blocked: { schema: string; key: number } | undefined;
      for (const t of targets) {
        const r = await client.query<{ ok: boolean }>('select pg_catalog.pg_try_advisory_lock($1::int4, $2::int4) as ok', [RUN_LOCK_CLASS, t.key]);
        if (!r.rows[0]?.ok) {
          blocked = t;
          break;
        }
        taken.push(t.key);
      }
      if (!blocked) return { release };
      await unlock(taken);
      const found = await holderOf(client, blocked.key).catch(() => null);
      const holder = found ? { ...found, schema: blocked.schema } : null;
      if (!opts.wait) {
        throw new TsdbtError('run-locked', `another tsdbt run is already running on schema ${blocked.schema} of database ${opts.database} (${describeHolder(holder)})`, {
          kind: 'runtime',
          hint: 'wait for it to finish, or run without --no-wait to wait for it automatically',
        });
      }
      if (!announced) {
        announced = true;
        opts.onWait?.(holder);
      }
      try {
        await sleep(opts.pollMs ?? 500, undefined, { signal: opts.signal });
      } catch {
        throw new TsdbtError('run-lock-cancelled', `cancelled while waiting for another tsdbt run on schema ${blocked.schema}`, { kind: 'runtime' });
      }
    }
  } catch (e) {
    await release();
    throw e;
  }
}
