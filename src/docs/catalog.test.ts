import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { testTargets, type TestDb } from '../adapters/testing.ts';
import { ManifestBuilder } from '../graph/fixtures.ts';
import type { Manifest } from '../parse/manifest.ts';
import { buildCatalog, queryCatalog, CATALOG_SCHEMA_VERSION } from './catalog.ts';

/** A manifest whose nodes live in `schema`: a seed, a table model, a view model, an ephemeral model, a source. */
function manifestIn(schema: string): Manifest {
  const m = new ManifestBuilder('shop')
    .source('raw', 'events')
    .seed('countries')
    .model('orders', { refs: ['countries'] })
    .model('orders_v', { refs: ['orders'] })
    .model('eph', { refs: ['orders'] })
    .build();
  for (const n of Object.values(m.nodes)) {
    n.schema = schema;
    n.relation_name = n.name === 'eph' ? null : `"${schema}"."${n.alias}"`;
  }
  m.nodes['model.shop.orders']!.alias = 'Orders'; // a quoted, mixed-case relation name
  m.sources['source.shop.raw.events']!.schema = schema;
  m.sources['source.shop.raw.events']!.identifier = 'raw_events';
  return m;
}

const targets = testTargets();
const skips = await Promise.all(targets.map((t) => t.skipReason()));

targets.forEach((tt, k) => {
  describe(`catalog on ${tt.name}`, { skip: skips[k] }, () => {
    let db: TestDb;
    let q: (s: string) => string;
    before(async () => {
      db = await tt.make();
      q = (s) => `${db.adapter.quoteIdentifier(db.schema)}.${db.adapter.quoteIdentifier(s)}`;
      await db.adapter.query(
        [
          `create table ${q('countries')} (code char(2), name varchar(40), population bigint)`,
          `insert into ${q('countries')} values ('NL', 'Netherlands', 17), ('BE', 'Belgium', 11), ('FR', 'France', 68)`,
          `create table ${q('Orders')} (id int primary key, dropped text, amount numeric(10,2), placed_at timestamp)`,
          `alter table ${q('Orders')} drop column dropped`,
          `insert into ${q('Orders')} select g, g * 1.5, timestamp '2024-01-01' from generate_series(1, 250) g`,
          `comment on table ${q('Orders')} is 'orders, one per row'`,
          `comment on column ${q('Orders')}.amount is 'in euros'`,
          `create view ${q('orders_v')} as select id, amount from ${q('Orders')}`,
          `create table ${q('raw_events')} (payload jsonb)`,
          `create table ${q('not_in_project')} (x int)`,
        ].join(';\n'),
      );
    });
    after(async () => {
      await db?.cleanup();
    });

    it('reads relations with columns in order, dense positions and formatted types', async () => {
      const rels = await queryCatalog(db.adapter, [db.schema, 'no_such_schema_xyz']);
      const byName = new Map(rels.map((r) => [r.name, r]));
      assert.deepEqual([...byName.keys()].sort(), ['Orders', 'countries', 'not_in_project', 'orders_v', 'raw_events']);
      const orders = byName.get('Orders')!;
      assert.equal(orders.type, 'BASE TABLE');
      assert.equal(orders.comment, 'orders, one per row');
      assert.deepEqual(
        orders.columns.map((c) => [c.index, c.name, c.type, c.comment]),
        [
          [1, 'id', 'integer', null],
          [2, 'amount', 'numeric(10,2)', 'in euros'],
          [3, 'placed_at', 'timestamp without time zone', null],
        ],
      );
      assert.equal(byName.get('orders_v')!.type, 'VIEW');
      assert.equal(byName.get('orders_v')!.totalBytes, null);
      assert.ok(orders.totalBytes! > 0);
      assert.deepEqual(byName.get('countries')!.columns.map((c) => c.type), ['character(2)', 'character varying(40)', 'bigint']);
    });

    it('builds catalog v1: matched nodes and sources only, exact row counts, sizes', async () => {
      const cat = await buildCatalog(db.adapter, manifestIn(db.schema), { invocationId: 'abc' });
      assert.equal(cat.metadata.dbt_schema_version, CATALOG_SCHEMA_VERSION);
      assert.equal(cat.metadata.invocation_id, 'abc');
      assert.equal(cat.errors, null);
      assert.deepEqual(Object.keys(cat.nodes).sort(), ['model.shop.orders', 'model.shop.orders_v', 'seed.shop.countries']);
      assert.deepEqual(Object.keys(cat.sources), ['source.shop.raw.events']);
      const orders = cat.nodes['model.shop.orders']!;
      assert.deepEqual(orders.metadata, {
        type: 'BASE TABLE',
        schema: db.schema,
        name: 'Orders',
        database: orders.metadata.database,
        comment: 'orders, one per row',
        owner: orders.metadata.owner,
      });
      assert.equal(orders.unique_id, 'model.shop.orders');
      assert.deepEqual(orders.columns.amount, { type: 'numeric(10,2)', index: 2, name: 'amount', comment: 'in euros' });
      assert.equal(orders.stats.num_rows!.value, 250);
      assert.equal(orders.stats.num_rows!.include, true);
      assert.ok((orders.stats.num_bytes!.value as number) > 0);
      assert.equal(orders.stats.has_stats!.value, true);
      assert.equal(cat.nodes['seed.shop.countries']!.stats.num_rows!.value, 3);
      const view = cat.nodes['model.shop.orders_v']!;
      assert.equal(view.metadata.type, 'VIEW');
      assert.equal(view.stats.num_rows, undefined);
      assert.deepEqual(view.stats.has_stats, { id: 'has_stats', label: 'Has Stats?', value: false, include: false, description: 'Indicates whether there are statistics for this table' });
    });

    it('uses the planner estimate above the exact-count size limit', async () => {
      await db.adapter.query(`analyze ${q('Orders')}`);
      const cat = await buildCatalog(db.adapter, manifestIn(db.schema), { exactCountMaxBytes: 0 });
      const rows = cat.nodes['model.shop.orders']!.stats.num_rows!;
      assert.equal(rows.value, 250);
      assert.match(rows.description!, /Approximate/);
    });

    it('limits the catalog to the selected nodes', async () => {
      const cat = await buildCatalog(db.adapter, manifestIn(db.schema), { selected: new Set(['seed.shop.countries']) });
      assert.deepEqual(Object.keys(cat.nodes), ['seed.shop.countries']);
      assert.deepEqual(cat.sources, {});
    });

    it('reports a database error in `errors` instead of throwing', async () => {
      // A real failure: the session's transaction is aborted, so the catalog query is refused.
      const cat = await db.adapter.withConnection(async (conn) => {
        await conn.query('begin');
        await conn.query('select 1 / 0').catch(() => undefined);
        try {
          return await buildCatalog(conn, manifestIn(db.schema));
        } finally {
          await conn.query('rollback');
        }
      });
      assert.deepEqual(cat.nodes, {});
      assert.match(cat.errors![0]!, /could not read the database catalog: .*transaction is aborted/);
    });
  });
});
