import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { DatabaseError } from './adapter.ts';
import { TsdbtError } from '../errors.ts';
import { quoteIdentifier, quoteLiteral, quoteRelation } from './quote.ts';
import { createPgliteAdapter } from './pglite.ts';
import { createPostgresAdapter } from './postgres.ts';
import { LOCK_FILE } from './directory-lock.ts';
import { pgliteVersion } from './pglite-template.ts';
import { freshPgliteDir, pgliteTargetForDir, postgresSkipReason, postgresTarget, testTargets, type TestDb } from './testing.ts';

describe('quoting', () => {
  it('matches pg escapeIdentifier / escapeLiteral', () => {
    for (const s of ['plain', 'with "quote"', 'semi;colon', 'sp ace', "it's", 'back\\slash', "both ' and \\", 'ünïcödé', '']) {
      assert.equal(quoteIdentifier(s), pg.escapeIdentifier(s));
      assert.equal(quoteLiteral(s), pg.escapeLiteral(s));
    }
    assert.equal(quoteRelation({ schema: 'My Schema', identifier: 'a"b' }), '"My Schema"."a""b"');
  });
});

for (const tt of testTargets()) {
  describe(`adapter: ${tt.name}`, { skip: await tt.skipReason() }, () => {
    let db: TestDb;
    let q: (name: string) => string;
    before(async () => {
      db = await tt.make();
      q = (name) => db.adapter.quoteRelation({ schema: db.schema, identifier: name });
    });
    after(async () => {
      await db?.cleanup();
    });

    it('reports its capability flags (pglite: one session, no cancel, no connection retries)', () => {
      const { maxConcurrency, cancel, connectionRetries } = db.adapter.capabilities;
      if (tt.name === 'pglite') assert.deepEqual({ maxConcurrency, cancel, connectionRetries }, { maxConcurrency: 1, cancel: false, connectionRetries: 0 });
      else assert.deepEqual({ maxConcurrency, cancel, connectionRetries }, { maxConcurrency: 4, cancel: true, connectionRetries: 0 }); // postgresTarget: threads 4, retries 0
    });

    it('reports command and rowCount, and parses values like node-postgres', async () => {
      const a = db.adapter;
      const c = await a.query(`create table ${q('t1')} (id int, name text)`);
      assert.equal(c.command, 'CREATE');
      const ins = await a.query(`insert into ${q('t1')} values ($1, $2), ($3, $4)`, [1, 'a', 2, 'b']);
      assert.equal(ins.command, 'INSERT');
      assert.equal(ins.rowCount, 2);
      const sel = await a.query<{ id: number; name: string }>(`select id, name from ${q('t1')} order by id`);
      assert.equal(sel.command, 'SELECT');
      assert.equal(sel.rowCount, 2);
      assert.deepEqual(sel.rows, [{ id: 1, name: 'a' }, { id: 2, name: 'b' }]);
      assert.deepEqual(sel.fields.map((f) => f.name), ['id', 'name']);
      const types = await a.query(`select 5::int8 as big, 1.50::numeric as num, true as b, '{"x":1}'::json as j, date '2024-01-02' as d`);
      const row = types.rows[0] as Record<string, unknown>;
      assert.equal(row.big, '5');
      assert.equal(row.num, '1.50');
      assert.equal(row.b, true);
      assert.deepEqual(row.j, { x: 1 });
      assert.ok(row.d instanceof Date);
    });

    it('runs multi-statement text and returns the last result', async () => {
      const r = await db.adapter.query(
        `create table ${q('multi')} (a int); insert into ${q('multi')} values (1), (2), (3); update ${q('multi')} set a = a + 1 where a > 1`,
      );
      assert.equal(r.command, 'UPDATE');
      assert.equal(r.rowCount, 2);
      const s = await db.adapter.query(`select count(*)::int as n from ${q('multi')}; select sum(a)::int as s from ${q('multi')}`);
      assert.deepEqual(s.rows, [{ s: 8 }]);
    });

    it('commits and rolls back transactions', async () => {
      const a = db.adapter;
      await a.query(`create table ${q('tx')} (a int)`);
      await a.withConnection((c) => c.transaction(async (tx) => {
        await tx.query(`insert into ${q('tx')} values (1)`);
      }));
      await assert.rejects(
        a.withConnection((c) => c.transaction(async (tx) => {
          await tx.query(`insert into ${q('tx')} values (2)`);
          throw new Error('boom');
        })),
        /boom/,
      );
      // A failed statement whose error was swallowed must not pass silently at COMMIT.
      await assert.rejects(
        a.withConnection((c) => c.transaction(async (tx) => {
          await tx.query(`insert into ${q('tx')} values (3)`);
          await tx.query('select 1/0').catch(() => undefined);
        })),
        (e: unknown) => e instanceof DatabaseError && e.sqlState === '25P02',
      );
      const r = await a.query<{ a: number }>(`select a from ${q('tx')} order by a`);
      assert.deepEqual(r.rows, [{ a: 1 }]);
      // The connection is usable afterwards (not stuck in an aborted transaction).
      assert.equal((await a.query('select 1 as one')).rows[0].one, 1);
    });

    it('normalises database errors to DatabaseError with sqlState and position', async () => {
      await assert.rejects(db.adapter.query(`select * from ${q('does_not_exist')}`), (e: unknown) => {
        assert.ok(e instanceof DatabaseError, String(e));
        assert.equal(e.sqlState, '42P01');
        assert.match(e.message, /does_not_exist/);
        assert.equal(e.position, 15);
        return true;
      });
      await assert.rejects(db.adapter.query('select 1 +', []), (e: unknown) => e instanceof DatabaseError && e.sqlState === '42601');
    });

    it('copies a CSV file with copyFromFile, showing the bytes to an observer', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'tsdbt-copy-'));
      try {
        const file = join(dir, 'x.csv');
        writeFileSync(file, 'id,name\n1,"a, b"\n2,\n3,c\n');
        await db.adapter.query(`create table ${q('copied')} (id int, name text)`);
        let seen = 0;
        let ended = false;
        const n = await db.adapter.withConnection((c) =>
          c.copyFromFile(`copy ${q('copied')} from stdin with (format csv, header true, null '')`, file, {
            chunk: (b) => (seen += b.length),
            end: () => (ended = true),
          }),
        );
        assert.equal(n, 3);
        assert.equal(seen, 24);
        assert.ok(ended);
        const r = await db.adapter.query(`select id, name from ${q('copied')} order by id`);
        assert.deepEqual(r.rows, [{ id: 1, name: 'a, b' }, { id: 2, name: null }, { id: 3, name: 'c' }]);

        // An observer error aborts the COPY, is rethrown as is, and leaves the connection usable.
        const stop = new TsdbtError('stop', 'stop here');
        await assert.rejects(
          db.adapter.withConnection((c) =>
            c.copyFromFile(`copy ${q('copied')} from stdin with (format csv, header true)`, file, {
              chunk: () => {
                throw stop;
              },
              end: () => undefined,
            }),
          ),
          (e: unknown) => e === stop,
        );
        assert.equal((await db.adapter.query(`select count(*)::int as n from ${q('copied')}`)).rows[0].n, 3);

        // A bad value: DatabaseError with the COPY context.
        writeFileSync(file, 'id,name\n1,a\nx,b\n');
        await assert.rejects(
          db.adapter.withConnection((c) => c.copyFromFile(`copy ${q('copied')} from stdin with (format csv, header true)`, file)),
          (e: unknown) => e instanceof DatabaseError && e.sqlState === '22P02' && /line 3/.test(e.where ?? ''),
        );
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('introspects tables and views', async () => {
      const a = db.adapter;
      await a.query(`create table ${q('rel_t')} (a int, dropped text, b varchar(20), c timestamp)`);
      await a.query(`alter table ${q('rel_t')} drop column dropped`);
      await a.query(`create view ${q('rel_v')} as select a, b from ${q('rel_t')}`);
      assert.deepEqual(
        (({ schema, identifier, kind }) => ({ schema, identifier, kind }))((await a.getRelation({ schema: db.schema, identifier: 'rel_t' }))!),
        { schema: db.schema, identifier: 'rel_t', kind: 'table' },
      );
      assert.equal((await a.getRelation({ schema: db.schema, identifier: 'rel_v' }))?.kind, 'view');
      assert.equal(await a.getRelation({ schema: db.schema, identifier: 'nope' }), null);
      assert.equal(await a.getRelation({ schema: 'no_such_schema_x', identifier: 'rel_t' }), null);
      const names = (await a.listRelations(db.schema)).map((r) => `${r.identifier}:${r.kind}`);
      assert.ok(names.includes('rel_t:table') && names.includes('rel_v:view'), names.join(','));
      assert.deepEqual(await a.listRelations('no_such_schema_x'), []);
      assert.deepEqual(await a.getColumns({ schema: db.schema, identifier: 'rel_t' }), [
        { name: 'a', dataType: 'integer', position: 1 },
        { name: 'b', dataType: 'character varying(20)', position: 2 },
        { name: 'c', dataType: 'timestamp without time zone', position: 3 },
      ]);
      assert.deepEqual(await a.getColumns({ schema: db.schema, identifier: 'rel_v' }), [
        { name: 'a', dataType: 'integer', position: 1 },
        { name: 'b', dataType: 'character varying(20)', position: 2 },
      ]);
      assert.deepEqual(await a.getColumns({ schema: db.schema, identifier: 'nope' }), []);
    });

    it('creates schemas idempotently, even concurrently', async () => {
      const s = db.schema + '_x';
      await Promise.all([db.adapter.createSchema(s), db.adapter.createSchema(s), db.adapter.createSchema(s)]);
      await db.adapter.createSchema(s);
      const r = await db.adapter.query('select count(*)::int as n from pg_namespace where nspname = $1', [s]);
      assert.equal(r.rows[0].n, 1);
      await db.adapter.query(`drop schema ${db.adapter.quoteIdentifier(s)}`);
    });

    it('round-trips identifiers with quotes, spaces and semicolons', async () => {
      const a = db.adapter;
      const table = 'we"ird; table';
      const col = 'co"l; x y';
      const rel = { schema: db.schema, identifier: table };
      await a.query(`create table ${a.quoteRelation(rel)} (${a.quoteIdentifier(col)} text)`);
      await a.query(`insert into ${a.quoteRelation(rel)} values (${a.quoteLiteral("it's a \\ test")})`);
      const r = await a.query(`select ${a.quoteIdentifier(col)} from ${a.quoteRelation(rel)}`);
      assert.deepEqual(r.rows, [{ [col]: "it's a \\ test" }]);
      assert.equal((await a.getRelation(rel))?.identifier, table);
      assert.deepEqual((await a.getColumns(rel)).map((c) => c.name), [col]);
    });

    it('never interleaves other work into a transaction held by withConnection', async () => {
      const a = db.adapter;
      await a.query(`create table ${q('iso')} (a int)`);
      let inside!: () => void;
      const started = new Promise<void>((r) => (inside = r));
      const holder = a.withConnection(async (c) => {
        await c.query('begin');
        await c.query(`insert into ${q('iso')} values (1)`);
        inside();
        await new Promise((r) => setTimeout(r, 100));
        await c.query('rollback');
      });
      await started;
      // Another caller, not inside the holder: it must not see (or join) the open transaction.
      const n = await a.query<{ n: number }>(`select count(*)::int as n from ${q('iso')}`);
      await holder;
      assert.equal(n.rows[0].n, 0);
    });

    it('runs adapter calls made inside withConnection on the same connection (no deadlock)', async () => {
      const a = db.adapter;
      const out = await a.withConnection(async (conn) =>
        conn.transaction(async (tx) => {
          await tx.query(`create table ${q('inner_t')} (a int)`);
          // Nested adapter calls see the uncommitted table: they run on this connection.
          const rel = await a.getRelation({ schema: db.schema, identifier: 'inner_t' });
          const n = await a.query('select 2 as two');
          return [rel?.kind, n.rows[0].two];
        }),
      );
      assert.deepEqual(out, ['table', 2]);
    });
  });
}

describe('pglite lock', () => {
  let dir: string | undefined;
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a second adapter on the same directory, here and in another process', async () => {
    dir = await freshPgliteDir();
    const target = pgliteTargetForDir(dir);
    const first = await createPgliteAdapter(target);
    try {
      const t0 = Date.now();
      await assert.rejects(createPgliteAdapter(target, { lockTimeoutMs: 300 }), (e: unknown) => {
        assert.ok(e instanceof TsdbtError);
        assert.equal(e.code, 'database-locked');
        assert.ok(e.message.includes(dir!), e.message);
        assert.ok(e.message.includes(String(process.pid)), e.message);
        return true;
      });
      assert.ok(Date.now() - t0 >= 250, 'waited for the timeout');

      const script = `
        import { createPgliteAdapter } from ${JSON.stringify(new URL('./pglite.ts', import.meta.url).href)};
        try { const a = await createPgliteAdapter({ name: 't', profileName: 'p', type: 'pglite', schema: 'main', threads: 1, dataDir: ${JSON.stringify(dir)}, extra: {}, source: 'x' }, { lockTimeoutMs: 200 }); await a.close(); console.log('OPENED'); }
        catch (e) { console.log(e.code + ' ' + e.message); }`;
      const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
      assert.match(child.stdout, /^database-locked .*in use by process \d+/m, child.stdout + child.stderr);
      assert.ok(child.stdout.includes(String(process.pid)), child.stdout);
    } finally {
      await first.close();
      await first.close(); // idempotent
    }
    assert.equal(existsSync(join(dir, LOCK_FILE)), false, 'close() releases the lock');

    // Works again once released; a lock left by a dead process is taken over.
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: 2 ** 22 + 12345, hostname: (await import('node:os')).hostname(), token: 'dead', since: 'then' }));
    const again = await createPgliteAdapter(target, { lockTimeoutMs: 300 });
    assert.equal((await again.query('select 1 as one')).rows[0].one, 1);
    await again.close();
  });
});

describe('pglite new data directory', () => {
  const root = mkdtempSync(join(tmpdir(), 'tsdbt-seedlite-tpl-'));
  after(() => rmSync(root, { recursive: true, force: true }));

  it('copies the initdb template (made once under the cache root) into a new directory, keeping the lock; data stays per directory', async () => {
    const cache = join(root, 'cache');
    const open = async (name: string) => createPgliteAdapter(pgliteTargetForDir(join(root, name)), { templateRoot: cache });
    const a = await open('a');
    const tpl = join(cache, `pglite-template-${pgliteVersion()}`);
    try {
      assert.ok(existsSync(join(tpl, 'PG_VERSION')), 'template made');
      assert.ok(existsSync(join(root, 'a', LOCK_FILE)), 'lock kept while open');
      await a.query('create table seedlite_t as select 1 as x');
    } finally {
      await a.close();
    }
    const b = await open('b');
    try {
      assert.equal((await b.query("select count(*)::int as n from pg_class where relname = 'seedlite_t'")).rows[0].n, 0, 'the template holds no user data');
      assert.equal((await b.query('select 1 as one')).rows[0].one, 1);
    } finally {
      await b.close();
    }
    const again = await open('a');
    try {
      assert.equal((await again.query('select x from seedlite_t')).rows[0].x, 1, 'an existing database is opened, not overwritten');
    } finally {
      await again.close();
    }
  });
});

describe('postgres connection errors', { skip: await postgresSkipReason() }, () => {
  it('names host:port when nothing listens (connection-refused)', async () => {
    await assert.rejects(createPostgresAdapter(postgresTarget('public', { port: 1, host: '127.0.0.1' })), (e: unknown) => {
      assert.ok(e instanceof TsdbtError, String(e));
      assert.equal(e.code, 'connection-refused');
      assert.match(e.message, /127\.0\.0\.1:1\b/);
      assert.match(e.hint ?? '', /host and port/);
      return true;
    });
  });

  it('says which database does not exist (database-not-found)', async () => {
    await assert.rejects(createPostgresAdapter(postgresTarget('public', { dbname: 'tsdbt_no_such_db' })), (e: unknown) => {
      assert.ok(e instanceof TsdbtError, String(e));
      assert.equal(e.code, 'database-not-found');
      assert.match(e.message, /"tsdbt_no_such_db" does not exist/);
      assert.match(e.hint ?? '', /createdb tsdbt_no_such_db/);
      return true;
    });
  });

  it('retries only as many times as `retries` says', async () => {
    const t0 = Date.now();
    await assert.rejects(createPostgresAdapter(postgresTarget('public', { port: 1, host: '127.0.0.1', retries: 2 }), { retryDelayMs: 150 }), /127\.0\.0\.1:1/);
    assert.ok(Date.now() - t0 >= 300, 'two retries waited twice');
  });

  it("reports the profile's retries as connectionRetries (default 1, as dbt-postgres)", async () => {
    for (const [retries, expected] of [[3, 3], [undefined, 1]] as const) {
      const a = await createPostgresAdapter({ ...postgresTarget('public'), retries });
      try {
        assert.equal(a.capabilities.connectionRetries, expected);
      } finally {
        await a.close();
      }
    }
  });

  it('cancels running statements with cancelAll()', async () => {
    const a = await createPostgresAdapter(postgresTarget('public'));
    try {
      const running = a.query('select pg_sleep(20)').then(() => undefined, (e: unknown) => e);
      await new Promise((r) => setTimeout(r, 300));
      const t0 = Date.now();
      await a.cancelAll();
      const err = await running;
      assert.ok(err instanceof DatabaseError && err.sqlState === '57014', String(err));
      assert.ok(Date.now() - t0 < 5000);
      assert.equal((await a.query('select 1 as one')).rows[0].one, 1);
    } finally {
      await a.close();
      await a.close();
    }
  });
});
