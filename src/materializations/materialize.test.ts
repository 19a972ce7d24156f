/**
 * Integration tests: every materialization on both adapters (real PostgreSQL and
 * PGlite), each target in its own schema. What is asserted is what a user would
 * check: rows, relation kinds, dependent views still answering, error codes and
 * messages, and that nothing named `__tsdbt_…` is left behind.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Adapter } from '../adapters/adapter.ts';
import { DatabaseError } from '../adapters/adapter.ts';
import { testTargets } from '../adapters/testing.ts';
import type { NodeConfig } from '../config/types.ts';
import { TsdbtError } from '../errors.ts';
import { materialize, type MaterializeResult } from './index.ts';

for (const t of testTargets()) {
  describe(`materializations on ${t.name}`, { skip: await t.skipReason() }, () => {
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

    const rel = (alias: string) => adapter.quoteRelation({ schema, identifier: alias });
    const run = (alias: string, sql: string, config: NodeConfig, opts: { fullRefresh?: boolean } = {}): Promise<MaterializeResult> =>
      adapter.withConnection((conn) =>
        materialize({ conn, adapter, relation: { schema, identifier: alias }, sql, config, fullRefresh: opts.fullRefresh ?? false }),
      );
    const rows = async (sql: string) => (await adapter.query(sql)).rows;
    const count = async (alias: string) => Number((await rows(`select count(*)::int as n from ${rel(alias)}`))[0]!.n);
    const kindOf = async (alias: string) => (await adapter.getRelation({ schema, identifier: alias }))?.kind ?? null;
    const leftovers = async () =>
      (await rows(`select relname::text as name from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = ${adapter.quoteLiteral(schema)} and relname like '%\\_\\_tsdbt\\_%'`)).map((r) => r.name);
    const rejectsWith = async (p: Promise<unknown>, code: string, pattern?: RegExp): Promise<TsdbtError> => {
      try {
        await p;
      } catch (e) {
        assert.ok(e instanceof TsdbtError, `expected a TsdbtError, got ${String(e)}`);
        assert.equal(e.code, code, e.message);
        if (pattern) assert.match(e.message, pattern);
        return e;
      }
      assert.fail(`expected ${code}`);
    };

    it('table: create, then rebuild with other rows', async () => {
      const r1 = await run('tbl', 'select 1 as id', { materialized: 'table' });
      assert.equal(r1.message, 'SELECT 1');
      assert.equal(r1.rowsAffected, 1);
      assert.equal(await kindOf('tbl'), 'table');
      const r2 = await run('tbl', 'select g as id from generate_series(1, 5) g;', { materialized: 'table' });
      assert.equal(r2.message, 'SELECT 5');
      assert.equal(await count('tbl'), 5);
      assert.ok(r2.statements.some((s) => s.startsWith(`create table ${rel(`tbl__tsdbt_tmp_${adapter.invocationToken}`)}`)));
      assert.deepEqual(await leftovers(), []);
    });

    it('view: create, then rebuild', async () => {
      const r1 = await run('vw', "select 'a' as x", { materialized: 'view' });
      assert.equal(r1.message, 'CREATE VIEW');
      assert.equal(r1.rowsAffected, null);
      assert.equal(await kindOf('vw'), 'view');
      await run('vw', "select 'b' as x union all select 'c'", { materialized: 'view' });
      assert.deepEqual((await rows(`select x from ${rel('vw')} order by x`)).map((r) => r.x), ['b', 'c']);
      assert.deepEqual(await leftovers(), []);
    });

    it('table → view and view → table', async () => {
      await run('flip', 'select 1 as id', { materialized: 'table' });
      await run('flip', 'select 2 as id', { materialized: 'view' });
      assert.equal(await kindOf('flip'), 'view');
      assert.deepEqual(await rows(`select id from ${rel('flip')}`), [{ id: 2 }]);
      await run('flip', 'select 3 as id', { materialized: 'table' });
      assert.equal(await kindOf('flip'), 'table');
      assert.deepEqual(await rows(`select id from ${rel('flip')}`), [{ id: 3 }]);
      assert.deepEqual(await leftovers(), []);
    });

    it('a dependent view (not managed by tsdbt) survives a rebuild, keeps its comment and sees the new data', async () => {
      await run('base', 'select g as id, g * 10 as amount from generate_series(1, 3) g', { materialized: 'table' });
      await adapter.query(`create view ${rel('dep_a')} as select id, amount from ${rel('base')} where amount > 0`);
      await adapter.query(`create view ${rel('dep_b')} as select count(*)::int as n, sum(amount)::int as total from ${rel('dep_a')}`);
      await adapter.query(`comment on view ${rel('dep_a')} is 'used by the dashboard'`);
      await adapter.query(`grant select on ${rel('dep_b')} to public`);
      const r = await run('base', 'select g as id, g * 10 as amount, 1 as extra from generate_series(1, 7) g', { materialized: 'table' });
      assert.equal(r.message, 'SELECT 7');
      assert.deepEqual(await rows(`select n, total from ${rel('dep_b')}`), [{ n: 7, total: 280 }]);
      const comment = await rows(`select obj_description(${adapter.quoteLiteral(rel('dep_a'))}::regclass, 'pg_class') as c`);
      assert.equal(comment[0]!.c, 'used by the dashboard');
      const acl = await rows(`select relacl::text as acl from pg_class where oid = ${adapter.quoteLiteral(rel('dep_b'))}::regclass`);
      assert.match(String(acl[0]!.acl), /=r\//); // PUBLIC select kept
      // switching the model to a view keeps them too
      await run('base', 'select 1 as id, 5 as amount', { materialized: 'view' });
      assert.deepEqual(await rows(`select n, total from ${rel('dep_b')}`), [{ n: 1, total: 5 }]);
      assert.deepEqual(await leftovers(), []);
    });

    it('a materialized view (with its index) and a view in another schema survive a rebuild', async () => {
      const other = `${schema}_bi`;
      const otherRel = (n: string) => adapter.quoteRelation({ schema: other, identifier: n });
      try {
        await run('mv_base', 'select g as id from generate_series(1, 2) g', { materialized: 'table' });
        await adapter.query(`create schema ${adapter.quoteIdentifier(other)}`);
        await adapter.query(`create materialized view ${otherRel('mv')} as select id from ${rel('mv_base')}`);
        await adapter.query(`create unique index mv_id on ${otherRel('mv')} (id)`);
        await adapter.query(`create view ${otherRel('on_mv')} as select count(*)::int as n from ${otherRel('mv')}`);
        await adapter.query(`create materialized view ${otherRel('mv_empty')} as select id from ${rel('mv_base')} with no data`);
        await run('mv_base', 'select g as id from generate_series(1, 6) g', { materialized: 'table' });
        // recreated (and therefore refreshed) with the new rows, index included
        assert.deepEqual(await rows(`select n from ${otherRel('on_mv')}`), [{ n: 6 }]);
        const idx = await rows(`select indexname::text as i from pg_indexes where schemaname = ${adapter.quoteLiteral(other)}`);
        assert.deepEqual(idx, [{ i: 'mv_id' }]);
        const populated = await rows(`select relispopulated as p from pg_class where oid = ${adapter.quoteLiteral(otherRel('mv_empty'))}::regclass`);
        assert.deepEqual(populated, [{ p: false }]);
      } finally {
        await adapter.query(`drop schema if exists ${adapter.quoteIdentifier(other)} cascade`);
      }
    });

    it('a dependent view that something else depends on blocks the rebuild with a clear error', async () => {
      await run('blk', 'select 1 as id', { materialized: 'table' });
      await adapter.query(`create view ${rel('blk_v')} as select id from ${rel('blk')}`);
      await adapter.query(`create function ${rel('blk_f')}() returns setof ${rel('blk_v')} language sql as 'select * from ${rel('blk_v').replace(/'/g, "''")}'`);
      const e = await rejectsWith(run('blk', 'select 2 as id', { materialized: 'table' }), 'dependent-view-blocked', /blk_v/);
      assert.match(e.message, /blk_f/);
      assert.deepEqual(await rows(`select id from ${rel('blk_v')}`), [{ id: 1 }]);
      assert.deepEqual(await leftovers(), []);
    });

    it('what a cascade would take with the old table: a foreign key goes as in dbt (named), a column of its row type blocks unless full refresh', async () => {
      await run('fkp', 'select 1 as id', { materialized: 'table' });
      await adapter.query(`alter table ${rel('fkp')} add primary key (id)`);
      await adapter.query(`create table ${rel('fk_child')} (pid int constraint fk_child_pid references ${rel('fkp')} (id))`);
      const r = await run('fkp', 'select 2 as id', { materialized: 'table' });
      assert.match(r.warnings.join('\n'), /Dropped constraint fk_child_pid on table .*fk_child.*dbt drops it too/);
      assert.deepEqual(await rows(`select id from ${rel('fkp')}`), [{ id: 2 }]);
      await adapter.query(`create table ${rel('typed_by')} (x ${rel('fkp')})`);
      await adapter.query(`insert into ${rel('typed_by')} values (row(2))`);
      const e = await rejectsWith(run('fkp', 'select 3 as id', { materialized: 'table' }), 'dependent-object-blocked', /column x of table .*typed_by/);
      assert.match(e.hint ?? '', /--full-refresh/);
      assert.deepEqual(await rows(`select id from ${rel('fkp')}`), [{ id: 2 }]);
      assert.deepEqual(await rows(`select count(*)::int as n from ${rel('typed_by')}`), [{ n: 1 }]);
      const r2 = await run('fkp', 'select 3 as id', { materialized: 'table' }, { fullRefresh: true });
      assert.match(r2.warnings.join('\n'), /--full-refresh: dropped column x of table .*typed_by/);
      assert.deepEqual(await rows(`select id from ${rel('fkp')}`), [{ id: 3 }]);
      assert.deepEqual(await leftovers(), []);
    });

    it('a failing model leaves the previous table and its rows intact', async () => {
      await run('keep', 'select g as id from generate_series(1, 4) g', { materialized: 'table' });
      await assert.rejects(run('keep', 'select\n  id,\n  no_such_column\nfrom generate_series(1, 2) id', { materialized: 'table' }), (e: unknown) => {
        assert.ok(e instanceof DatabaseError);
        assert.match(e.message, /no_such_column/);
        // position points into the model SQL, not into our wrapper
        assert.equal(e.position, 'select\n  id,\n  '.length + 1);
        return true;
      });
      assert.equal(await count('keep'), 4);
      assert.deepEqual(await leftovers(), []);
    });

    it('a rebuild that drops a column a dependent view uses fails and leaves everything intact', async () => {
      await run('shrink', 'select 1 as id, 2 as used_by_view', { materialized: 'table' });
      await adapter.query(`create view ${rel('shrink_dep')} as select used_by_view from ${rel('shrink')}`);
      const err = await rejectsWith(run('shrink', 'select 1 as id', { materialized: 'table' }), 'dependent-view-failed', /shrink_dep/);
      assert.match(err.message, /used_by_view/);
      assert.ok(err.hint);
      assert.deepEqual(await rows(`select used_by_view from ${rel('shrink_dep')}`), [{ used_by_view: 2 }]);
      assert.deepEqual(await rows(`select * from ${rel('shrink')}`), [{ id: 1, used_by_view: 2 }]);
      assert.deepEqual(await leftovers(), []);
    });

    it('a downstream view model that no longer fits is recreated from its new SQL when it is rebuilt later in the run', async () => {
      // Both models renamed a column in the same change: the old definition of the view model
      // cannot be recreated, its new SQL (which its own node builds right after) can.
      await run('up', 'select 1 as old_name', { materialized: 'table' });
      await run('down', `select old_name from ${rel('up')}`, { materialized: 'view' });
      const swapUp = (sql: string, later: { sql?: string }, fullRefresh = false) =>
        adapter.withConnection((conn) =>
          materialize({ conn, adapter, relation: { schema, identifier: 'up' }, sql, config: { materialized: 'table' }, fullRefresh, rebuiltLater: [{ schema, identifier: 'down', ...later }] }),
        );
      const r = await swapUp('select 1 as new_name', { sql: `select new_name from ${rel('up')}` });
      assert.deepEqual(r.warnings, []);
      assert.deepEqual(await rows(`select new_name from ${rel('down')}`), [{ new_name: 1 }]);
      // a view that still fits is recreated as it is
      const r2 = await swapUp('select 2 as new_name', {});
      assert.deepEqual(r2.warnings, []);
      assert.deepEqual(await rows(`select new_name from ${rel('down')}`), [{ new_name: 2 }]);
    });

    it('a downstream view model whose new SQL does not fit either fails the rebuild, naming it; --full-refresh drops it with a warning', async () => {
      await run('up2', 'select 1 as old_name', { materialized: 'table' });
      await run('down2', `select old_name from ${rel('up2')}`, { materialized: 'view' });
      const swapUp = (fullRefresh: boolean) =>
        adapter.withConnection((conn) =>
          materialize({
            conn,
            adapter,
            relation: { schema, identifier: 'up2' },
            sql: 'select 1 as new_name',
            config: { materialized: 'table' },
            fullRefresh,
            rebuiltLater: [{ schema, identifier: 'down2', sql: `select still_old from ${rel('up2')}` }],
          }),
        );
      const e = await rejectsWith(swapUp(false), 'dependent-view-failed', /down2/);
      assert.match(e.message, /new SQL does not fit either/);
      assert.deepEqual(await rows(`select old_name from ${rel('down2')}`), [{ old_name: 1 }]);
      const r = await swapUp(true);
      assert.match(r.warnings.join('\n'), /--full-refresh: dropped view .*down2.*its own model rebuilds it/);
      assert.equal(await kindOf('down2'), null);
      assert.deepEqual(await leftovers(), []);
    });

    it('pre-hooks run before the build, post-hooks after the swap, grants from the config', async () => {
      const r = await adapter.withConnection((conn) =>
        materialize({
          conn,
          adapter,
          relation: { schema, identifier: 'hooked' },
          sql: 'select g as id from generate_series(1, 3) g',
          config: { materialized: 'table', grants: { select: ['public'] } },
          fullRefresh: false,
          preHooks: [`create table if not exists ${rel('hook_log')} (what text, n int)`],
          postHooks: [`insert into ${rel('hook_log')} select 'post', count(*) from ${rel('hooked')}`],
        }),
      );
      assert.deepEqual(await rows(`select what, n::int as n from ${rel('hook_log')}`), [{ what: 'post', n: 3 }]);
      assert.ok(r.statements.indexOf(`grant select on ${rel('hooked')} to public`) > 0);
    });

    it('indexes, unlogged and sql_header configs', async () => {
      const cfg: NodeConfig = {
        materialized: 'table',
        indexes: [{ columns: ['id'], unique: true }, { columns: ['grp'] }],
        unlogged: true,
        sql_header: "set local statement_timeout = '60s';",
      };
      for (let i = 0; i < 2; i++) await run('idx', 'select g as id, g % 2 as grp from generate_series(1, 4) g', cfg);
      const idx = await rows(
        `select indexdef::text as d from pg_indexes where schemaname = ${adapter.quoteLiteral(schema)} and tablename = 'idx' order by indexdef`,
      );
      assert.equal(idx.length, 2);
      assert.ok(idx.some((r) => /UNIQUE INDEX .* \(id\)$/.test(String(r.d))), JSON.stringify(idx));
      const persistence = await rows(`select relpersistence::text as p from pg_class where oid = ${adapter.quoteLiteral(rel('idx'))}::regclass`);
      assert.deepEqual(persistence, [{ p: 'u' }]);
      await rejectsWith(run('idx', 'select 1 as id', { materialized: 'table', indexes: [{ columns: 'id' }] }), 'invalid-index-config');
      assert.deepEqual(await leftovers(), []);
    });

    it('leftovers of a crashed run are dropped before building (token-less names, and names of a dead invocation)', async () => {
      await adapter.query(`create table ${rel('crash__tsdbt_tmp')} (x int)`);
      await adapter.query(`create view ${rel('crash__tsdbt_backup')} as select 1 as x`);
      await adapter.query(`create table ${rel('crash__tsdbt_tmp_0a0b0c')} (x int)`);
      await adapter.query(`create table ${rel('crash__tsdbt_backup_0a0b0c')} (x int)`);
      await adapter.query(`create table ${rel('crashx__tsdbt_tmp_0a0b0c')} (x int)`); // another model's: kept
      await run('crash', 'select 1 as id', { materialized: 'table' });
      assert.deepEqual(await leftovers(), ['crashx__tsdbt_tmp_0a0b0c']);
      await adapter.query(`drop table ${rel('crashx__tsdbt_tmp_0a0b0c')}`);
    });

    it('creates a missing schema', async () => {
      const other = `${schema}_extra`;
      try {
        await adapter.withConnection((conn) =>
          materialize({ conn, adapter, relation: { schema: other, identifier: 'x' }, sql: 'select 1 as id', config: { materialized: 'table' }, fullRefresh: false }),
        );
        assert.equal((await adapter.getRelation({ schema: other, identifier: 'x' }))?.kind, 'table');
      } finally {
        await adapter.query(`drop schema if exists ${adapter.quoteIdentifier(other)} cascade`);
      }
    });

    it('an alias with quotes, spaces and a semicolon works for table, view and incremental', async () => {
      const alias = 'we"ird; name';
      assert.equal((await run(alias, 'select 1 as id', { materialized: 'table' })).message, 'SELECT 1');
      await adapter.query(`create view ${rel('weird dep')} as select id from ${rel(alias)}`);
      await run(alias, 'select 2 as id', { materialized: 'view' });
      await run(alias, 'select 3 as id', { materialized: 'incremental', unique_key: 'id' });
      assert.equal((await run(alias, 'select 4 as id', { materialized: 'incremental', unique_key: 'id' })).message, 'INSERT 0 1');
      assert.deepEqual((await rows(`select id from ${rel('weird dep')} order by id`)).map((r) => r.id), [3, 4]);
      assert.deepEqual(await leftovers(), []);
    });

    it('ephemeral does nothing', async () => {
      const r = await run('eph', 'select 1', { materialized: 'ephemeral' });
      assert.deepEqual([r.message, r.statements], ['EPHEMERAL', []]);
      assert.equal(await kindOf('eph'), null);
    });

    it('an unknown materialization is a clear error', async () => {
      await rejectsWith(run('mv', 'select 1', { materialized: 'materialized_view' }), 'unknown-materialization', /materialized_view/);
    });

    describe('incremental', () => {
      const src = (name: string) => rel(`src_${name}`);
      const setupSource = async (name: string, values: string) => {
        await adapter.query(`drop table if exists ${src(name)}`);
        await adapter.query(`create table ${src(name)} (id int, day int, v text)`);
        await adapter.query(`insert into ${src(name)} values ${values}`);
      };

      it('append: re-running with no new rows adds none; new source rows add exactly those', async () => {
        await setupSource('app', `(1, 1, 'a'), (2, 1, 'b'), (3, 1, 'c')`);
        const full = `select * from ${src('app')}`;
        const incr = `select * from ${src('app')} where id > (select coalesce(max(id), 0) from ${rel('app')})`;
        const cfg: NodeConfig = { materialized: 'incremental' };
        assert.equal((await run('app', full, cfg)).message, 'SELECT 3');
        const again = await run('app', incr, cfg);
        assert.equal(again.message, 'INSERT 0 0');
        assert.equal(await count('app'), 3);
        await adapter.query(`insert into ${src('app')} values (4, 2, 'd'), (5, 2, 'e')`);
        const more = await run('app', incr, cfg);
        assert.deepEqual([more.message, more.rowsAffected], ['INSERT 0 2', 2]);
        assert.equal(await count('app'), 5);
        assert.deepEqual(await leftovers(), []);
      });

      for (const [strategy, key, expectedMessage] of [
        ['delete+insert', 'id', 'INSERT 0'],
        ['delete+insert', ['id', 'day'], 'INSERT 0'],
        ['merge', 'id', 'MERGE'],
        ['merge', ['id', 'day'], 'MERGE'],
      ] as const) {
        it(`${strategy} with unique_key ${JSON.stringify(key)}: idempotent, updates changed rows, adds new ones`, async () => {
          const name = `${strategy.replace('+', '_')}_${Array.isArray(key) ? 'composite' : 'single'}`;
          await setupSource(name, `(1, 1, 'a'), (2, 1, 'b'), (3, 1, 'c')`);
          const sql = `select * from ${src(name)}`;
          const cfg: NodeConfig = { materialized: 'incremental', unique_key: key as string | string[], incremental_strategy: strategy };
          await run(name, sql, cfg);
          const again = await run(name, sql, cfg);
          assert.equal(again.message, `${expectedMessage} 3`);
          assert.equal(await count(name), 3);
          await adapter.query(`update ${src(name)} set v = 'B' where id = 2`);
          await adapter.query(`insert into ${src(name)} values (4, 1, 'd')`);
          await run(name, sql, cfg);
          assert.deepEqual(
            (await rows(`select id, v from ${rel(name)} order by id`)).map((r) => `${r.id}${r.v}`),
            ['1a', '2B', '3c', '4d'],
          );
        });
      }

      it('the default strategy with a unique_key is delete+insert', async () => {
        await setupSource('dflt', `(1, 1, 'a')`);
        await run('dflt', `select * from ${src('dflt')}`, { materialized: 'incremental', unique_key: 'id' });
        const r = await run('dflt', `select * from ${src('dflt')}`, { materialized: 'incremental', unique_key: 'id' });
        assert.ok(r.statements.some((s) => s.startsWith(`delete from ${rel('dflt')}`)));
        assert.equal(await count('dflt'), 1);
      });

      it('full refresh rebuilds the table (and keeps dependent views)', async () => {
        await setupSource('fr', `(1, 1, 'a'), (2, 1, 'b')`);
        const cfg: NodeConfig = { materialized: 'incremental' };
        await run('fr', `select * from ${src('fr')}`, cfg);
        await run('fr', `select * from ${src('fr')}`, cfg);
        assert.equal(await count('fr'), 4);
        await adapter.query(`create view ${rel('fr_dep')} as select count(*)::int as n from ${rel('fr')}`);
        const r = await run('fr', `select * from ${src('fr')}`, cfg, { fullRefresh: true });
        assert.equal(r.message, 'SELECT 2');
        assert.deepEqual(await rows(`select n from ${rel('fr_dep')}`), [{ n: 2 }]);
        // full_refresh: false in the config wins over the flag, as in dbt
        const r2 = await run('fr', `select * from ${src('fr')}`, { ...cfg, full_refresh: false }, { fullRefresh: true });
        assert.equal(r2.message, 'INSERT 0 2');
      });

      it('an existing view is replaced by a table', async () => {
        await run('was_view', 'select 1 as id', { materialized: 'view' });
        const r = await run('was_view', 'select 1 as id', { materialized: 'incremental' });
        assert.equal(r.message, 'SELECT 1');
        assert.equal(await kindOf('was_view'), 'table');
      });

      describe('on_schema_change', () => {
        const first = 'select 1 as id, 10 as keep_me, 100 as drop_me';
        const second = "select 2 as id, 20 as keep_me, 'x'::text as added";

        it('ignore (default): the table keeps its columns', async () => {
          await run('osc_ignore', first, { materialized: 'incremental' });
          // the new rows lack drop_me: as in dbt, the insert uses the table's columns and fails
          await assert.rejects(run('osc_ignore', second, { materialized: 'incremental' }), /drop_me/);
          await run('osc_ignore', 'select 2 as id, 20 as keep_me, 200 as drop_me, 1 as extra', { materialized: 'incremental' });
          const cols = (await adapter.getColumns({ schema, identifier: 'osc_ignore' })).map((c) => c.name);
          assert.deepEqual(cols, ['id', 'keep_me', 'drop_me']);
          assert.equal(await count('osc_ignore'), 2);
        });

        it('append_new_columns adds new columns and keeps old ones', async () => {
          const cfg: NodeConfig = { materialized: 'incremental', on_schema_change: 'append_new_columns' };
          await run('osc_append', first, cfg);
          await run('osc_append', second, cfg);
          const cols = (await adapter.getColumns({ schema, identifier: 'osc_append' })).map((c) => c.name);
          assert.deepEqual(cols, ['id', 'keep_me', 'drop_me', 'added']);
          assert.deepEqual(await rows(`select id, drop_me, added from ${rel('osc_append')} order by id`), [
            { id: 1, drop_me: 100, added: null },
            { id: 2, drop_me: null, added: 'x' },
          ]);
        });

        it('sync_all_columns adds, drops and retypes, keeping a dependent view on a retyped column', async () => {
          const cfg: NodeConfig = { materialized: 'incremental', on_schema_change: 'sync_all_columns' };
          await run('osc_sync', first, cfg);
          await adapter.query(`create view ${rel('osc_sync_dep')} as select id, keep_me from ${rel('osc_sync')}`);
          await run('osc_sync', "select 2::bigint as id, 20 as keep_me, 'x'::text as added", cfg);
          const cols = await adapter.getColumns({ schema, identifier: 'osc_sync' });
          assert.deepEqual(
            cols.map((c) => `${c.name}:${c.dataType}`),
            ['id:bigint', 'keep_me:integer', 'added:text'],
          );
          assert.deepEqual((await rows(`select id::int as id from ${rel('osc_sync_dep')} order by id`)).map((r) => r.id), [1, 2]);
        });

        it('sync_all_columns that drops a column a view uses fails and changes nothing', async () => {
          const cfg: NodeConfig = { materialized: 'incremental', on_schema_change: 'sync_all_columns' };
          await run('osc_sync2', first, cfg);
          await adapter.query(`create view ${rel('osc_sync2_dep')} as select drop_me from ${rel('osc_sync2')}`);
          await rejectsWith(run('osc_sync2', second, cfg), 'dependent-view-failed', /osc_sync2_dep/);
          const cols = (await adapter.getColumns({ schema, identifier: 'osc_sync2' })).map((c) => c.name);
          assert.deepEqual(cols, ['id', 'keep_me', 'drop_me']);
          assert.equal(await count('osc_sync2'), 1);
        });

        it('fail names the differing columns and changes nothing', async () => {
          const cfg: NodeConfig = { materialized: 'incremental', on_schema_change: 'fail' };
          await run('osc_fail', first, cfg);
          const e = await rejectsWith(run('osc_fail', second, cfg), 'incremental-schema-changed', /added \(text\)/);
          assert.match(e.message, /drop_me \(integer\)/);
          assert.match(e.hint ?? '', /full-refresh/);
          assert.equal(await count('osc_fail'), 1);
          // same columns: fine
          assert.equal((await run('osc_fail', first, cfg)).message, 'INSERT 0 1');
        });

        it('an unknown value falls back to ignore with a warning', async () => {
          const cfg: NodeConfig = { materialized: 'incremental', on_schema_change: 'append_new_column' };
          await run('osc_typo', first, cfg);
          const r = await run('osc_typo', first, cfg);
          assert.match(r.warnings[0] ?? '', /append_new_column/);
        });

        it('a longer varchar widens the column', async () => {
          await run('widen', "select 'ab'::varchar(2) as s", { materialized: 'incremental' });
          await run('widen', "select 'abcdef'::varchar(6) as s", { materialized: 'incremental' });
          const cols = await adapter.getColumns({ schema, identifier: 'widen' });
          assert.equal(cols[0]!.dataType, 'character varying(6)');
        });
      });
    });

    describe('seed', () => {
      let dir: string;
      before(() => {
        dir = mkdtempSync(join(tmpdir(), 'tsdbt-mat-seed-'));
      });
      after(() => rmSync(dir, { recursive: true, force: true }));
      const seed = (alias: string, csv: string, config: NodeConfig = {}, fullRefresh = false) => {
        const file = join(dir, `${alias}.csv`);
        writeFileSync(file, csv);
        return adapter.withConnection((conn) =>
          materialize({
            conn,
            adapter,
            relation: { schema, identifier: alias },
            sql: '',
            config: { materialized: 'seed', ...config },
            fullRefresh,
            seed: { file, displayPath: `seeds/${alias}.csv` },
          }),
        );
      };

      it('loads a CSV, reloads it with other rows, keeps a dependent view', async () => {
        const r = await seed('countries', 'code,name\nde,Germany\nfr,France\nit,Italy\n');
        assert.deepEqual([r.message, r.rowsAffected], ['INSERT 3', 3]);
        await adapter.query(`create view ${rel('countries_v')} as select code from ${rel('countries')}`);
        const r2 = await seed('countries', 'code,name\nde,Germany\nes,Spain\n');
        assert.equal(r2.message, 'INSERT 2');
        assert.deepEqual((await rows(`select code from ${rel('countries_v')} order by code`)).map((x) => x.code), ['de', 'es']);
        assert.equal((await seed('countries', 'code,name\nde,Germany\n', {}, true)).message, 'CREATE 1');
        assert.deepEqual(await leftovers(), []);
      });

      it('column_types and delimiter configs', async () => {
        await seed('typed', 'id;amount\n1;2.50\n', { column_types: { amount: 'numeric(10,2)' }, delimiter: ';' });
        const cols = await adapter.getColumns({ schema, identifier: 'typed' });
        assert.deepEqual(cols.map((c) => `${c.name}:${c.dataType}`), ['id:integer', 'amount:numeric(10,2)']);
      });

      it('a bad CSV fails and leaves the previous table intact', async () => {
        await seed('fragile', 'id,n\n1,10\n2,20\n');
        await assert.rejects(seed('fragile', 'id,n\n1,10\n2,20,30\n'), (e: unknown) => e instanceof TsdbtError);
        assert.deepEqual(await rows(`select id, n from ${rel('fragile')} order by id`), [
          { id: 1, n: 10 },
          { id: 2, n: 20 },
        ]);
        assert.deepEqual(await leftovers(), []);
      });
    });

    it('persist_docs: hostile descriptions are quoted literals on table, view and incremental; columns matched by name', async () => {
      await adapter.query(`create table ${rel('pd_victim')} as select 1 as x`);
      const evil = `it's'; drop table ${rel('pd_victim')}; -- \\ $$ $dbt_comment_literal_block$ "q"`;
      const docs = { description: evil, columns: [{ name: 'ID', description: `col ${evil}` }, { name: 'missing', description: 'not there' }, { name: 'Name', description: '' }] };
      const persist = { relation: true, columns: true };
      const comments = async (alias: string) =>
        rows(
          `select coalesce(a.attname::text, '') as col, d.description from pg_description d join pg_class c on c.oid = d.objoid left join pg_attribute a on a.attrelid = c.oid and a.attnum = d.objsubid ` +
            `where c.oid = ${adapter.quoteLiteral(rel(alias))}::regclass order by d.objsubid`,
        );
      for (const [alias, materialized] of [['pd_t', 'table'], ['pd_v', 'view'], ['pd_i', 'incremental'], ['pd_i', 'incremental']] as const) {
        const r = await adapter.withConnection((conn) =>
          materialize({ conn, adapter, relation: { schema, identifier: alias }, sql: `select 1 as id, 'a' as "Name"`, config: { materialized, persist_docs: persist }, fullRefresh: false, docs }),
        );
        assert.ok(r.statements.some((x) => x.startsWith(`comment on ${materialized === 'view' ? 'view' : 'table'} ${rel(alias)} is`)), r.statements.join('\n'));
        assert.deepEqual(await comments(alias), [
          { col: '', description: evil },
          { col: 'id', description: `col ${evil}` },
        ]);
      }
      assert.equal(await count('pd_victim'), 1);
      // persist_docs off (dbt's default) or no docs: no comment statement.
      const off = await run('pd_off', 'select 1 as id', { materialized: 'table' });
      assert.ok(!off.statements.some((x) => x.startsWith('comment on')));
    });

    if (t.name.startsWith('postgres')) {
      it('concurrent swaps of two models with a view on both do not deadlock', async () => {
        await run('conc_a', 'select 1 as id', { materialized: 'table' });
        await run('conc_b', 'select 1 as id', { materialized: 'table' });
        await adapter.query(`create view ${rel('conc_v')} as select a.id, b.id as bid from ${rel('conc_a')} a join ${rel('conc_b')} b using (id)`);
        for (let round = 2; round <= 6; round++) {
          const results = await Promise.allSettled([
            run('conc_a', `select g as id from generate_series(1, ${round}) g`, { materialized: 'table' }),
            run('conc_b', `select g as id from generate_series(1, ${round}) g`, { materialized: 'table' }),
          ]);
          for (const r of results) assert.equal(r.status, 'fulfilled', r.status === 'rejected' ? String(r.reason) : '');
          assert.deepEqual(await rows(`select count(*)::int as n from ${rel('conc_v')}`), [{ n: round }]);
        }
      });
    }
  });
}
