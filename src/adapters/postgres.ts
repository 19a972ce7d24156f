/**
 * The `postgres` adapter: node-postgres (pg) with a pool of `threads` connections,
 * COPY through pg-copy-streams, cancellation with pg_cancel_backend.
 *
 * Profile fields follow dbt-postgres: host, port, user, password, dbname, schema,
 * threads, sslmode (+ sslrootcert/sslcert/sslkey), connect_timeout (seconds, default
 * 10), retries (default 1), search_path, role, keepalives_idle. A field left unset
 * falls back to the PG* environment variables (PGHOST, PGPORT, PGUSER, PGPASSWORD,
 * PGDATABASE, PGSSLMODE) exactly as libpq/psql would: pg reads them itself.
 */
import { invocationLockSql, newInvocationToken } from './invocation-token.ts';
import { createReadStream, readFileSync } from 'node:fs';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { TsdbtError } from '../errors.ts';
import type { TargetConfig } from '../config/types.ts';
import { DatabaseError, type Adapter, type Connection, type CopyObserver, type QueryResult } from './adapter.ts';
import { buildAdapter, toDatabaseError, wrapSession } from './base-adapter.ts';
import { quoteIdentifier } from './quote.ts';
import { acquireRunLock } from './run-lock.ts';
import { scrubConnectionText } from '../secrets.ts';

/** Options that are not part of a profile. */
export interface PostgresAdapterOptions {
  /** Wait between connection attempts when `retries` > 0, in milliseconds (default 1000). */
  readonly retryDelayMs?: number;
}

type SslOption = pg.ClientConfig['ssl'];

/** Network-level failures: the server was not reached (or hung up before talking). Retried. */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNRESET',
  'EPIPE',
  'ENOENT', // unix socket path that does not exist
]);

type ConnectFailure = 'unreachable' | 'auth' | 'no-database' | 'ssl-unsupported' | 'starting' | 'other';

function classify(err: unknown): ConnectFailure {
  const e = err as { code?: unknown; message?: unknown; errors?: unknown[] } | null;
  const code = typeof e?.code === 'string' ? e.code : undefined;
  const message = typeof e?.message === 'string' ? e.message : String(err);
  if (code === '28P01' || code === '28000') return 'auth';
  if (code === '3D000') return 'no-database';
  if (code === '57P03') return 'starting';
  if (code && UNREACHABLE_CODES.has(code)) return 'unreachable';
  if (Array.isArray(e?.errors) && e.errors.some((x) => classify(x) === 'unreachable')) return 'unreachable';
  if (/does not support SSL/i.test(message)) return 'ssl-unsupported';
  if (/client password must be a string|password authentication/i.test(message)) return 'auth';
  if (/timeout|terminated unexpectedly|Connection terminated/i.test(message)) return 'unreachable';
  return 'other';
}

function describeError(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown; errors?: unknown[] } | null;
  if (Array.isArray(e?.errors) && e.errors.length) return describeError(e.errors[0]);
  // A driver or server message that echoes a connection string gets its password field masked (structurally: the field, not the value).
  const msg = scrubConnectionText(typeof e?.message === 'string' && e.message ? e.message : String(err));
  return typeof e?.code === 'string' && !msg.includes(e.code) ? `${e.code}: ${msg}` : msg;
}

/** libpq-style sslmode → pg's `ssl` option. `undefined` lets pg read PGSSLMODE. */
function sslFor(target: TargetConfig, mode: string | undefined): SslOption {
  if (mode === undefined || mode === null || mode === '') return undefined;
  const files: { ca?: string; cert?: string; key?: string } = {};
  const read = (key: string): string | undefined => {
    const p = target.extra[key];
    return typeof p === 'string' && p ? readFileSync(p, 'utf8') : undefined;
  };
  try {
    files.ca = read('sslrootcert');
    files.cert = read('sslcert');
    files.key = read('sslkey');
  } catch (err) {
    throw new TsdbtError('profile-ssl-file', `cannot read an SSL file of target '${target.name}': ${describeError(err)}`, {
      file: profileFile(target),
      hint: 'Check the sslrootcert / sslcert / sslkey paths in profiles.yml.',
    });
  }
  switch (mode) {
    case 'disable':
      return false;
    case 'allow':
    case 'prefer':
      // Tried with TLS first; createPostgresAdapter falls back to plain when the server has no SSL.
      return { rejectUnauthorized: false, ...files };
    case 'require':
      // libpq: encrypt, verify the CA only when a root certificate is given.
      return { rejectUnauthorized: files.ca !== undefined, checkServerIdentity: () => undefined, ...files };
    case 'verify-ca':
      return { rejectUnauthorized: true, checkServerIdentity: () => undefined, ...files };
    case 'verify-full':
      return { rejectUnauthorized: true, ...files };
    default:
      throw new TsdbtError('profile-invalid-sslmode', `sslmode '${mode}' of target '${target.name}' is not one of disable, allow, prefer, require, verify-ca, verify-full`, {
        file: profileFile(target),
        hint: "Set sslmode to one of libpq's modes (most servers: 'prefer' or 'require').",
      });
  }
}

function profileFile(target: TargetConfig): string | undefined {
  return target.source && target.source !== 'embedded default' ? target.source : undefined;
}

/** The pg client configuration for a target (no password is ever logged from here). */
export function postgresClientConfig(target: TargetConfig): pg.PoolConfig {
  const searchPath = target.search_path
    ? `-c search_path=${target.search_path.replace(/\\/g, '\\\\').replace(/ /g, '\\ ')}`
    : undefined;
  const keepalivesIdle = Number(target.extra.keepalives_idle ?? 0);
  const timeout = target.connect_timeout ?? 10;
  return {
    host: target.host,
    port: target.port,
    user: target.user,
    password: target.password,
    database: target.dbname,
    ssl: sslFor(target, target.sslmode ?? undefined),
    connectionTimeoutMillis: timeout > 0 ? timeout * 1000 : 0,
    options: searchPath,
    application_name: 'tsdbt',
    keepAlive: keepalivesIdle > 0 ? true : undefined,
    keepAliveInitialDelayMillis: keepalivesIdle > 0 ? keepalivesIdle * 1000 : undefined,
    max: Math.max(1, target.threads || 1),
  };
}

/** host:port (or the socket path) and user/database as pg resolves them, env vars included. */
function resolvedEndpoint(config: pg.ClientConfig): { where: string; user: string; database: string } {
  const probe = new pg.Client(config); // not connected: only resolves parameters
  const host = probe.host;
  const where = host.startsWith('/') ? `${host}/.s.PGSQL.${probe.port}` : `${host}:${probe.port}`;
  return { where, user: probe.user ?? '', database: probe.database ?? '' };
}

function connectionError(target: TargetConfig, config: pg.ClientConfig, err: unknown): TsdbtError {
  const { where, user, database } = resolvedEndpoint(config);
  const file = profileFile(target);
  const inProfile = file ? `in ${file}` : 'in profiles.yml';
  const kind = classify(err);
  if (kind === 'unreachable' || kind === 'starting') {
    return new TsdbtError('connection-refused', `could not connect to PostgreSQL at ${where} (target '${target.name}'): ${describeError(err)}`, {
      file,
      kind: 'project',
      cause: err,
      hint: `Check that the server is running and that host and port of target '${target.name}' ${inProfile} are right (PGHOST/PGPORT apply when they are not set).`,
    });
  }
  if (kind === 'auth') {
    const serverMsg = (err as { code?: unknown }).code === '28000' ? describeError(err) : `password authentication failed for user "${user}"`;
    return new TsdbtError('auth-failed', `${serverMsg} (PostgreSQL at ${where}, target '${target.name}')`, {
      file,
      kind: 'project',
      cause: err,
      hint: `Check user and password of target '${target.name}' ${inProfile} (for example password: "{{ env_var('PGPASSWORD') }}"), and that pg_hba.conf lets this user in.`,
    });
  }
  if (kind === 'no-database') {
    return new TsdbtError('database-not-found', `database "${database}" does not exist on PostgreSQL at ${where} (target '${target.name}')`, {
      file,
      kind: 'project',
      cause: err,
      hint: `Create it (createdb ${database}) or set dbname of target '${target.name}' ${inProfile} to an existing database.`,
    });
  }
  return new TsdbtError('connection-failed', `could not connect to PostgreSQL at ${where} (target '${target.name}'): ${describeError(err)}`, {
    file,
    kind: 'project',
    cause: err,
    hint:
      kind === 'ssl-unsupported'
        ? `The server does not accept SSL: set sslmode of target '${target.name}' ${inProfile} to prefer or disable, or enable SSL on the server.`
        : `Check the connection settings of target '${target.name}' ${inProfile}.`,
  });
}

/** One result from pg's `query` (an array when several statements ran): the last one, in our shape. */
function toResult(r: pg.QueryResult | pg.QueryResult[]): QueryResult<any> {
  const last = Array.isArray(r) ? r[r.length - 1] : r;
  if (!last) return { rows: [], rowCount: null, command: '', fields: [] };
  return {
    rows: last.rows ?? [],
    rowCount: last.rowCount ?? null,
    command: last.command ?? '',
    fields: (last.fields ?? []).map((f) => ({ name: f.name, dataTypeID: f.dataTypeID })),
  };
}

/** The message of a COPY stopped by cancelAll: PostgreSQL's own words for a cancel, so it reads (and is classified) as one. */
const COPY_CANCELLED = 'canceling statement due to user request';

function observe(observer: CopyObserver, errors: { observer?: unknown }): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      try {
        observer.chunk(chunk);
        cb(null, chunk);
      } catch (err) {
        errors.observer = err;
        cb(err as Error);
      }
    },
    flush(cb) {
      try {
        observer.end();
        cb();
      } catch (err) {
        errors.observer = err;
        cb(err as Error);
      }
    },
  });
}

/**
 * A session on `client`. A COPY it streams registers its abort in
 * `copies` for the time it runs: {@link createPostgresAdapter}'s
 * `cancelAll` calls it, so the client stops sending the file at once (the
 * stream is destroyed, pg-copy-streams sends CopyFail and the server rolls the
 * COPY back) instead of streaming the rest of it into a cancelled statement.
 */
function sessionFor(client: pg.PoolClient, copies: Set<() => void>): Connection {
  return wrapSession({
    async run(sql, params) {
      const r = params && params.length > 0 ? await client.query(sql, params as unknown[]) : await client.query(sql);
      return toResult(r as pg.QueryResult | pg.QueryResult[]);
    },
    async copyFromFile(copySql, filePath, observer) {
      const errors: { observer?: unknown; file?: unknown } = {};
      const source: Readable = createReadStream(filePath, { highWaterMark: 256 * 1024 });
      source.once('error', (err) => (errors.file = err));
      const sink = client.query(copyFrom(copySql));
      let aborted = false;
      const abort = () => {
        aborted = true;
        source.destroy(new Error(COPY_CANCELLED));
      };
      copies.add(abort);
      try {
        if (observer) await pipeline(source, observe(observer, errors), sink);
        else await pipeline(source, sink);
      } catch (err) {
        // Cancelled: the server's answer to the CopyFail (or to pg_cancel_backend) is the same SQLSTATE 57014.
        if (aborted) throw new DatabaseError(COPY_CANCELLED, { sqlState: '57014', cause: err });
        if (errors.observer !== undefined) throw errors.observer;
        if (errors.file !== undefined) throw errors.file;
        throw toDatabaseError(err);
      } finally {
        copies.delete(abort);
      }
      return sink.rowCount;
    },
  });
}

/**
 * What every pooled session runs once, as one simple-protocol query:
 *  - PostgreSQL ≥ 14: `client_connection_check_interval = 2000`, so a backend whose client
 *    vanished (tsdbt killed, second Ctrl-C) stops its query within 2 s instead of running it
 *    to the end (older servers reject the setting: ignored inside the DO block);
 *  - the invocation lock (shared, session-level) on `token`.
 */
export function sessionSetupSql(token: string): string {
  return (
    "do $tsdbt$ begin perform pg_catalog.set_config('client_connection_check_interval', '2000', false); " +
    'exception when others then null; end $tsdbt$; ' +
    invocationLockSql(token)
  );
}

/**
 * Opens a pool of `target.threads` connections to the target's PostgreSQL and checks
 * it with one connection (retried `target.retries` times, default 1, on network
 * errors only).
 *
 * @throws TsdbtError (kind 'project') `connection-refused` (server not reachable; names
 *   host:port), `auth-failed` (SQLSTATE 28P01/28000; never shows the password),
 *   `database-not-found` (3D000), `connection-failed` (anything else), each with a hint
 *   on what to change in profiles.yml.
 */
export async function createPostgresAdapter(target: TargetConfig, options: PostgresAdapterOptions = {}): Promise<Adapter> {
  let config = postgresClientConfig(target);
  const retries = Math.max(0, Math.floor(target.retries ?? 1));
  const retryDelayMs = options.retryDelayMs ?? 1000;
  const prefersSsl = target.sslmode === 'prefer' || target.sslmode === 'allow';

  const invocationToken = newInvocationToken();
  let pool: pg.Pool | undefined;
  for (let attempt = 0; ; attempt++) {
    const candidate = new pg.Pool(config);
    candidate.on('error', () => undefined); // an idle client lost its socket: the pool drops it
    // The invocation lock is held for the connection's life: it tells other runs that this invocation's
    // helper relations are in use (see invocation-token.ts). One query, so the client never has two in flight.
    candidate.on('connect', (client) => void client.query(sessionSetupSql(invocationToken)).catch(() => undefined));
    try {
      const client = await candidate.connect();
      client.release();
      pool = candidate;
      break;
    } catch (err) {
      await candidate.end().catch(() => undefined);
      const kind = classify(err);
      if (kind === 'ssl-unsupported' && prefersSsl && config.ssl) {
        config = { ...config, ssl: false }; // libpq's prefer: fall back to an unencrypted connection
        attempt--;
        continue;
      }
      if ((kind === 'unreachable' || kind === 'starting') && attempt < retries) {
        await sleep(retryDelayMs);
        continue;
      }
      throw connectionError(target, config, err);
    }
  }

  const activePool = pool;
  const checkedOut = new Set<pg.PoolClient>();
  const copies = new Set<() => void>();
  const initialised = new WeakSet<pg.PoolClient>();
  const role = typeof target.extra.role === 'string' && target.extra.role ? target.extra.role : undefined;
  let closing: Promise<void> | undefined;

  return buildAdapter({
    type: 'postgres',
    capabilities: { maxConcurrency: Math.max(1, target.threads || 1), cancel: true, connectionRetries: retries },
    async acquire(fn) {
      if (closing) throw new Error('the postgres adapter is closed');
      let client: pg.PoolClient;
      try {
        client = await activePool.connect();
      } catch (err) {
        throw toDatabaseError(err);
      }
      const onError = (): void => undefined; // reported by the failing query; the client is discarded on release
      client.on('error', onError);
      checkedOut.add(client);
      let broken = false;
      try {
        if (role && !initialised.has(client)) {
          await client.query(`set role ${quoteIdentifier(role)}`);
        }
        initialised.add(client);
        return await fn(sessionFor(client, copies));
      } catch (err) {
        // A DatabaseError without SQLSTATE is a lost connection: discard the client. Otherwise make
        // sure it goes back to the pool outside any transaction fn may have left open.
        if (err instanceof DatabaseError && err.sqlState === undefined) broken = true;
        else await client.query('rollback').catch(() => (broken = true));
        throw err;
      } finally {
        checkedOut.delete(client);
        client.off('error', onError);
        client.release(broken);
      }
    },
    async cancelAll() {
      // A COPY in flight stops sending now (its statement is failed by CopyFail); then every running statement is cancelled.
      for (const abort of [...copies]) abort();
      const pids = [...checkedOut].map((c) => (c as unknown as { processID?: number }).processID).filter((p): p is number => typeof p === 'number');
      if (!pids.length) return;
      const canceller = new pg.Client({ ...config, connectionTimeoutMillis: 5000, application_name: 'tsdbt-cancel' });
      canceller.on('error', () => undefined);
      try {
        await canceller.connect();
        await canceller.query('select pg_catalog.pg_cancel_backend(pid) from unnest($1::int[]) as pid', [pids]);
      } catch {
        // best effort
      } finally {
        await canceller.end().catch(() => undefined);
      }
    },
    close() {
      closing ??= activePool.end().catch(() => undefined);
      return closing;
    },
    lockRun: (opts) => acquireRunLock(config, { ...opts, database: resolvedEndpoint(config).database }),
  });
}
