/**
 * The `pglite` adapter: PostgreSQL compiled to WASM (@electric-sql/pglite) running in
 * this process on a data directory — tsdbt's zero-setup default.
 *
 * PGlite is one session with no lock of its own, so this adapter
 *   - takes an exclusive lock on the data directory (see directory-lock.ts),
 *   - serialises all work with an async mutex: `withConnection(fn)` holds the session
 *     for the whole of `fn`, so a transaction is never interleaved with other work,
 *   - reports `capabilities: { maxConcurrency: 1, cancel: false, connectionRetries: 0 }`.
 * A new directory gets a copy of the initdb'd template (pglite-template.ts) instead of
 * running initdb itself; `@electric-sql/pglite` is loaded only when a PGlite target opens.
 * Rows come back parsed exactly as node-postgres parses them (int8 and numeric as
 * strings, timestamps and dates as Date, json parsed, …), so code and tests see the
 * same values on both adapters.
 */
import { mkdirSync, createReadStream, existsSync, openAsBlob } from 'node:fs';
import { join } from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { TsdbtError } from '../errors.ts';
import type { TargetConfig } from '../config/types.ts';
import type { Adapter, Connection, QueryResult } from './adapter.ts';
import { buildAdapter, toDatabaseError, wrapSession } from './base-adapter.ts';
import { lockDirectory, type DirectoryLock } from './directory-lock.ts';
import { copyPgliteTemplate, tsdbtCacheDir } from './pglite-template.ts';

/** Options that are not part of a profile. */
export interface PgliteAdapterOptions {
  /** How long to wait for another process holding the data directory, in ms (default 10 000). */
  readonly lockTimeoutMs?: number;
  /** Called once if we have to wait for the lock (the adapter itself prints nothing). */
  readonly onLockWait?: (holder: { pid: number; hostname: string; since: string }) => void;
  /** Where the initdb template is kept (default {@link tsdbtCacheDir}); `false` runs initdb in the data directory itself. */
  readonly templateRoot?: string | false;
}

/** node-postgres's text parsers for every built-in type OID, so PGlite returns what pg returns. */
let pgParsers: Record<number, (value: string) => unknown> | undefined;
function parsersLikePg(): Record<number, (value: string) => unknown> {
  if (pgParsers) return pgParsers;
  const out: Record<number, (value: string) => unknown> = {};
  for (let oid = 1; oid < 10000; oid++) {
    const parse = pg.types.getTypeParser(oid, 'text') as (value: string) => unknown;
    out[oid] = parse;
  }
  pgParsers = out;
  return out;
}

interface PgliteResults {
  rows: any[];
  fields: { name: string; dataTypeID: number }[];
  command?: string;
  rowCount?: number;
  affectedRows?: number;
}

function toResult(r: PgliteResults | undefined): QueryResult<any> {
  if (!r) return { rows: [], rowCount: null, command: '', fields: [] };
  return {
    rows: r.rows ?? [],
    rowCount: r.rowCount ?? null,
    command: r.command ?? '',
    fields: (r.fields ?? []).map((f) => ({ name: f.name, dataTypeID: f.dataTypeID })),
  };
}

/** `COPY … FROM STDIN …` → `COPY … FROM '/dev/blob' …` (PGlite reads the blob passed with the query). */
export function copySqlForPglite(copySql: string): string {
  const out = copySql.replace(/\bfrom\s+stdin\b/i, "FROM '/dev/blob'");
  if (out === copySql) throw new Error(`copyFromFile expects a COPY … FROM STDIN statement, got: ${copySql.slice(0, 200)}`);
  return out;
}

/**
 * Opens (creating it, with parents, when missing) the PGlite database in
 * `target.dataDir`, after taking the directory lock.
 *
 * @throws TsdbtError `database-locked` when another process (or another adapter in
 *   this process) still holds the directory after `lockTimeoutMs`; `pglite-open-failed`
 *   when the directory cannot be opened as a database; `pglite-no-data-dir` when the
 *   target has no `dataDir`.
 */
export async function createPgliteAdapter(target: TargetConfig, options: PgliteAdapterOptions = {}): Promise<Adapter> {
  const dir = target.dataDir;
  if (!dir) {
    throw new TsdbtError('pglite-no-data-dir', `target '${target.name}' of type pglite has no data directory`, {
      hint: 'Set `path:` of the target in profiles.yml (or remove the target to use the default .tsdbt/pglite/<target>).',
    });
  }
  mkdirSync(dir, { recursive: true });
  const lock: DirectoryLock = await lockDirectory(dir, { timeoutMs: options.lockTimeoutMs, onWait: options.onLockWait });

  let db: PGlite | undefined;
  try {
    if (options.templateRoot !== false && !existsSync(join(dir, 'PG_VERSION'))) {
      // A new database: copy the initdb'd template instead of running initdb here (pglite-template.ts).
      // Any failure leaves PGlite to run initdb itself, as before.
      await copyPgliteTemplate(dir, options.templateRoot ?? tsdbtCacheDir()).catch(() => undefined);
    }
    const { PGlite } = await import('@electric-sql/pglite');
    // PGlite's own settings are kept (fsync=off among them: see README). Measured on the example build with
    // 1M sessions: work_mem=64MB cost more CPU (64 s vs 57 s) and peaked at 603 MB vs 492 MB; wal_level=minimal,
    // full_page_writes=off and synchronous_commit=off changed nothing measurable at 200k (CPU within noise).
    db = new PGlite(dir, { parsers: parsersLikePg() });
    await db.waitReady;
    if (target.search_path) await db.exec(`set search_path to ${target.search_path}`);
  } catch (err) {
    await db?.close().catch(() => undefined); // an open instance would keep Node alive
    lock.release();
    const detail = err instanceof Error ? err.message : String(err);
    throw new TsdbtError('pglite-open-failed', `cannot open the PGlite database in ${dir}: ${detail}`, {
      cause: err,
      hint: `Check that ${dir} is a PGlite data directory (or empty), readable and writable; delete it to start afresh.`,
    });
  }

  const pglite = db;
  const session: Connection = wrapSession({
    async run(sql, params) {
      if (params && params.length > 0) return toResult(await pglite.query(sql, params as unknown[]));
      const results = await pglite.exec(sql);
      return toResult(results[results.length - 1]);
    },
    async copyFromFile(copySql, filePath, observer) {
      const sql = copySqlForPglite(copySql);
      if (observer) {
        // PGlite takes the whole file at once, so the observer sees it before the COPY runs.
        for await (const chunk of createReadStream(filePath, { highWaterMark: 256 * 1024 })) observer.chunk(chunk as Buffer);
        observer.end();
      }
      const blob = await openAsBlob(filePath);
      try {
        const r = await pglite.query(sql, [], { blob });
        return r.affectedRows ?? r.rowCount ?? 0;
      } catch (err) {
        throw toDatabaseError(err);
      }
    },
  });

  // The mutex: a promise chain; each holder runs after the previous one settles.
  let tail: Promise<unknown> = Promise.resolve();
  let closing: Promise<void> | undefined;

  return buildAdapter({
    type: 'pglite',
    capabilities: { maxConcurrency: 1, cancel: false, connectionRetries: 0 },
    acquire<T>(fn: (conn: Connection) => Promise<T>): Promise<T> {
      if (closing) return Promise.reject(new Error(`the PGlite database in ${dir} is closed`));
      const run = tail.then(() => {
        if (closing) throw new Error(`the PGlite database in ${dir} is closed`);
        return fn(session);
      });
      tail = run.catch(() => undefined);
      return run;
    },
    async cancelAll() {
      // PGlite runs statements synchronously inside this process: nothing can interrupt them.
    },
    close(insideConnection) {
      closing ??= (async () => {
        // Let the statement in flight finish (PGlite cannot interrupt it) unless close() was called
        // from inside withConnection, where waiting would wait for ourselves.
        if (!insideConnection) await tail;
        try {
          await pglite.close();
        } catch {
          // already closed or aborted: nothing more to release
        } finally {
          lock.release();
        }
      })();
      return closing;
    },
  });
}
