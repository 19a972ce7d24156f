/**
 * Test helpers for integration tests that run against BOTH engines.
 *
 * ```ts
 * import { describe, it, before, after } from 'node:test';
 * import { testTargets, type TestDb } from '../adapters/testing.ts';
 *
 * for (const tt of testTargets()) {
 *   describe(tt.name, { skip: await tt.skipReason() }, () => {
 *     let db: TestDb;
 *     before(async () => { db = await tt.make(); });
 *     after(async () => { await db?.cleanup(); });
 *     it('…', async () => { await db.adapter.query(`create table ${db.schema}.t (a int)`); });
 *   });
 * }
 * ```
 *
 * Avoid root-level `before`/`after` hooks in such files: with the top-level `await`,
 * the root's hooks can run before the suites registered after it (resolve every
 * `skipReason()` first, or keep hooks inside the suites).
 *
 * - postgres: a fresh schema `tsdbt_test_<pid>_<n>_<random>` in database `test` on
 *   127.0.0.1:5432 as user `postgres` (PGHOST/PGPORT/PGUSER/PGPASSWORD/PGDATABASE
 *   override). `cleanup()` drops it (cascade) and closes the adapter.
 *   When the server is unreachable the case is skipped with a reason — unless
 *   TSDBT_REQUIRE_PG=1 (CI), where `skipReason()` returns undefined and `make()` fails
 *   with a clear message.
 * - pglite: a fresh data directory COPIED from a template that is initdb'd once per
 *   machine and PGlite version (`<tmpdir>/tsdbt-pglite-template-<version>`; initdb
 *   takes 3.5–10 s, a copy well under a second). The same unique schema is created.
 *   `cleanup()` closes the adapter and deletes the copy.
 *
 * Row values are parsed alike on both engines (node-postgres conventions: bigint and
 * numeric as strings, dates/timestamps as Date).
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { TargetConfig } from '../config/types.ts';
import type { Adapter } from './adapter.ts';
import { createPgliteAdapter } from './pglite.ts';
import { pgliteTemplateDir as templateUnder } from './pglite-template.ts';
import { createPostgresAdapter } from './postgres.ts';

/** What `make()` hands a test. */
export interface TestDb {
  readonly adapter: Adapter;
  /** A schema that exists, is empty, and belongs to this test only. */
  readonly schema: string;
  readonly target: TargetConfig;
  /** Drops the schema / deletes the data directory, and closes the adapter. Idempotent. */
  cleanup(): Promise<void>;
}

export interface TestTarget {
  readonly name: 'postgres' | 'pglite';
  /** A reason to skip this engine (postgres unreachable and TSDBT_REQUIRE_PG unset), else undefined. */
  skipReason(): Promise<string | undefined>;
  make(): Promise<TestDb>;
}

let counter = 0;
/** A schema name unique across processes and runs: `tsdbt_test_<pid>_<n>_<hex>`. */
export function uniqueSchemaName(prefix = 'tsdbt_test'): string {
  return `${prefix}_${process.pid}_${++counter}_${randomBytes(3).toString('hex')}`;
}

/** The test server's coordinates: 127.0.0.1:5432, user postgres, database test, unless PG* env vars say otherwise. */
function pgEnv(): { host: string; port: number; user: string; password?: string; dbname: string } {
  return {
    host: process.env.PGHOST || '127.0.0.1',
    port: Number(process.env.PGPORT || 5432),
    user: process.env.PGUSER || 'postgres',
    password: process.env.PGPASSWORD || undefined,
    dbname: process.env.PGDATABASE || 'test',
  };
}

/** A TargetConfig for the test PostgreSQL with `schema` as target schema (retries 0, connect_timeout 5 s). */
export function postgresTarget(schema: string, overrides: Partial<TargetConfig> = {}): TargetConfig {
  return {
    name: 'test',
    profileName: 'tsdbt_test',
    type: 'postgres',
    schema,
    threads: 4,
    ...pgEnv(),
    retries: 0,
    connect_timeout: 5,
    extra: {},
    source: 'tests',
    ...overrides,
  };
}

/** A TargetConfig for a PGlite database in `dir`. */
export function pgliteTargetForDir(dir: string, schema = 'main', overrides: Partial<TargetConfig> = {}): TargetConfig {
  return {
    name: 'test',
    profileName: 'tsdbt_test',
    type: 'pglite',
    schema,
    threads: 1,
    dataDir: dir,
    extra: {},
    source: 'tests',
    ...overrides,
  };
}

let availability: Promise<boolean> | undefined;
/**
 * Whether the test PostgreSQL answers (checked once per process: up to 3
 * attempts of 5 s each, 1 s apart, so a loaded machine is not taken for a
 * missing server).
 */
export function pgAvailable(): Promise<boolean> {
  availability ??= (async () => {
    for (let attempt = 0; attempt < 3; attempt++) {
      const c = new pg.Client({ ...pgEnv(), database: pgEnv().dbname, connectionTimeoutMillis: 5000 });
      c.on('error', () => undefined);
      try {
        await c.connect();
        await c.query('select 1');
        return true;
      } catch {
        await new Promise((r) => setTimeout(r, 1000));
      } finally {
        await c.end().catch(() => undefined);
      }
    }
    return false;
  })();
  return availability;
}

/** Whether TSDBT_REQUIRE_PG=1 (CI): an unreachable PostgreSQL is then a failure, not a skip. */
export function requirePg(): boolean {
  return process.env.TSDBT_REQUIRE_PG === '1';
}

/** The reason to skip PostgreSQL tests here, or undefined when they must run. */
export async function postgresSkipReason(): Promise<string | undefined> {
  if (requirePg() || (await pgAvailable())) return undefined;
  const e = pgEnv();
  return `PostgreSQL is not reachable at ${e.host}:${e.port} (database ${e.dbname}, user ${e.user}); set TSDBT_REQUIRE_PG=1 to make this a failure`;
}

async function makePostgres(): Promise<TestDb> {
  if (!(await pgAvailable())) {
    const e = pgEnv();
    throw new Error(
      `PostgreSQL is required (TSDBT_REQUIRE_PG=1) but not reachable at ${e.host}:${e.port} as user ${e.user}, database ${e.dbname}. ` +
        'Start it, or set PGHOST/PGPORT/PGUSER/PGPASSWORD/PGDATABASE.',
    );
  }
  const schema = uniqueSchemaName();
  const target = postgresTarget(schema);
  const adapter = await createPostgresAdapter(target);
  await adapter.createSchema(schema);
  let done: Promise<void> | undefined;
  return {
    adapter,
    schema,
    target,
    cleanup() {
      done ??= (async () => {
        try {
          await adapter.query(`drop schema if exists ${adapter.quoteIdentifier(schema)} cascade`);
        } finally {
          await adapter.close();
        }
      })();
      return done;
    },
  };
}

/**
 * The initdb'd template the tests copy (pglite-template.ts), kept under the OS temp dir so
 * that every test process on the machine shares one.
 */
export function pgliteTemplateDir(): Promise<string> {
  return templateUnder(join(tmpdir(), 'tsdbt-test-cache'));
}

/** A fresh PGlite data directory (a copy of the template) under the OS temp dir. Caller deletes it. */
export async function freshPgliteDir(): Promise<string> {
  const src = await pgliteTemplateDir();
  const dir = mkdtempSync(join(tmpdir(), 'tsdbt-pglite-test-'));
  cpSync(src, dir, { recursive: true });
  return dir;
}

async function makePglite(): Promise<TestDb> {
  const dir = await freshPgliteDir();
  const schema = uniqueSchemaName();
  const target = pgliteTargetForDir(dir, schema);
  let adapter: Adapter;
  try {
    adapter = await createPgliteAdapter(target, { lockTimeoutMs: 2000 });
    await adapter.createSchema(schema);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  let done: Promise<void> | undefined;
  return {
    adapter,
    schema,
    target,
    cleanup() {
      done ??= (async () => {
        try {
          await adapter.close();
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      })();
      return done;
    },
  };
}

/** The engines every integration test loops over: postgres first, then pglite. */
export function testTargets(): TestTarget[] {
  return [
    { name: 'postgres', skipReason: postgresSkipReason, make: makePostgres },
    { name: 'pglite', skipReason: async () => undefined, make: makePglite },
  ];
}
