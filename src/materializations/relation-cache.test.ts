/**
 * The swap with the invocation's RelationCache (as the runner runs it), on both engines:
 * round trips per table model, leftovers of a crashed run still dropped, a dependent view
 * still kept, and a half-built temporary relation of this invocation dropped by the next attempt.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Adapter, Connection } from '../adapters/adapter.ts';
import { testTargets } from '../adapters/testing.ts';
import { materialize, RecordingSession } from './index.ts';
import { RelationCache } from './relation-cache.ts';
import { tmpRelation } from './sql.ts';

for (const t of testTargets()) {
  describe(`relation cache on ${t.name}`, { skip: await t.skipReason() }, () => {
    let env: Awaited<ReturnType<typeof t.make>>;
    let adapter: Adapter;
    let schema: string;
    before(async () => {
      env = await t.make();
      adapter = env.adapter;
      schema = env.schema;
    });
    after(async () => {
      await env?.cleanup();
    });

    /** Builds `alias` as a table with `cache`; resolves to the round trips it took (queries sent). */
    const build = (cache: RelationCache, alias: string, sql: string) =>
      adapter.withConnection(async (conn) => {
        let trips = 0;
        const counting: Connection = {
          query: (q, p) => (trips++, conn.query(q, p)),
          copyFromFile: (a, b, o) => conn.copyFromFile(a, b, o),
          transaction: (fn) => conn.transaction(fn),
        };
        await materialize({ conn: counting, adapter, relation: { schema, identifier: alias }, sql, config: { materialized: 'table' }, fullRefresh: false, relationCache: cache });
        return trips;
      });
    const rows = async (sql: string) => (await adapter.query(sql)).rows;
    const helpers = async () =>
      (await rows(`select relname::text as name from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = ${adapter.quoteLiteral(schema)} and relname like '%\\_\\_tsdbt\\_%' order by 1`)).map((r) => r.name);

    it('rebuilds a table in 3 round trips once the schema is known, and drops leftovers found at the first use', async () => {
      // A crashed run's leftovers, there before this invocation starts.
      await adapter.query(`create table ${schema}.a__tsdbt_tmp (x int)`);
      await adapter.query(`create view ${schema}.a__tsdbt_backup_abcdef as select 1 as x`);
      const cache = new RelationCache();
      await build(cache, 'a', 'select 1 as id');
      assert.deepEqual(await helpers(), []);
      await build(cache, 'b', 'select 1 as id');
      // b exists now: a rebuild is the build, then begin+lock+look-up, then renames+cascade assertion+drop+commit.
      assert.equal(await build(cache, 'b', 'select g as id from generate_series(1, 3) g'), 3);
      assert.deepEqual(await rows(`select count(*)::int as n from ${schema}.b`), [{ n: 3 }]);
    });

    it('keeps a view built on the table (captured because the look-up says one depends on it)', async () => {
      const cache = new RelationCache();
      await build(cache, 'c', 'select 1 as id');
      await adapter.query(`create view ${schema}.c_view as select id * 10 as ten from ${schema}.c`);
      await build(cache, 'c', 'select 2 as id');
      assert.deepEqual(await rows(`select ten from ${schema}.c_view`), [{ ten: 20 }]);
    });

    it("drops this invocation's own temporary relation left by an attempt that lost its connection", async () => {
      const cache = new RelationCache();
      await build(cache, 'd', 'select 1 as id');
      // As after a connection lost mid-build: the temporary relation exists, and the cache noted it before creating it.
      const tmp = tmpRelation({ schema, identifier: 'd' }, adapter.invocationToken);
      await adapter.query(`create table ${adapter.quoteRelation(tmp)} (x int)`);
      await adapter.withConnection((conn) => cache.noteHelper(new RecordingSession(conn), schema, tmp.identifier, 'r'));
      await build(cache, 'd', 'select 5 as id');
      assert.deepEqual(await rows(`select id from ${schema}.d`), [{ id: 5 }]);
      assert.deepEqual(await helpers(), []);
    });
  });
}
