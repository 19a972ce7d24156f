/**
 * End to end on a project shaped like dbt-labs/jaffle_shop (tests/fixtures/jaffle_like: 3 seeds,
 * 3 staging views, 2 mart tables, 19 schema tests under the legacy `tests:` key), through the real
 * CLI, on PostgreSQL and on PGlite.
 *
 * It pins what a dbt user moving jaffle_shop to tsdbt would check: the summary line, the generated
 * test names and unique_ids (hashes computed independently with dbt-core's algorithm: md5 of the test
 * name + Python repr of the key-sorted test_metadata, last 10 hex digits — the same algorithm gives
 * jaffle_shop's known `…relationships_orders_customer_id__customer_id__ref_customers_.c6ec7f58f2`),
 * the materializations (staging views, marts tables), the rows (integer seed columns divide as
 * integers, as with dbt's agate type inference), and a failing accepted_values test skipping what is
 * downstream.
 *
 * Run: node --import tsx --test tests/integration/jaffle-like.test.ts
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ENGINES, Project, fixture } from './harness.ts';

/** The 19 data tests' unique_ids as dbt-core 1.x names them for this project. */
const EXPECTED_TEST_IDS = [
  'test.jaffle_like.accepted_values_baskets_status__placed__shipped__completed__return_pending__returned.e74a4d3fb8',
  'test.jaffle_like.accepted_values_stg_baskets_status__placed__shipped__completed__return_pending__returned.54755f4bef',
  'test.jaffle_like.accepted_values_stg_charges_charge_method__card__voucher__cash.39d228b913',
  'test.jaffle_like.not_null_baskets_amount.5c69d1aa5c',
  'test.jaffle_like.not_null_baskets_basket_id.486bf495a4',
  'test.jaffle_like.not_null_baskets_card_amount.2f36d2f042',
  'test.jaffle_like.not_null_baskets_cash_amount.c852d6ea20',
  'test.jaffle_like.not_null_baskets_shopper_id.183dbfb139',
  'test.jaffle_like.not_null_baskets_voucher_amount.5800166f46',
  'test.jaffle_like.not_null_shoppers_shopper_id.95e0e36f8e',
  'test.jaffle_like.not_null_stg_baskets_basket_id.cb2f500adb',
  'test.jaffle_like.not_null_stg_charges_charge_id.3b482fc38f',
  'test.jaffle_like.not_null_stg_shoppers_shopper_id.13fa0e1d5c',
  'test.jaffle_like.relationships_baskets_shopper_id__shopper_id__ref_shoppers_.c9eb5f2fcb',
  'test.jaffle_like.unique_baskets_basket_id.1ab32ff08b',
  'test.jaffle_like.unique_shoppers_shopper_id.743df4b24a',
  'test.jaffle_like.unique_stg_baskets_basket_id.03d92bfa02',
  'test.jaffle_like.unique_stg_charges_charge_id.1e8db59c42',
  'test.jaffle_like.unique_stg_shoppers_shopper_id.21fd21e422',
];

/** The summary line `Done. PASS=… WARN=… ERROR=… SKIP=… TOTAL=…` as numbers. */
function summary(output: string): Record<string, number> {
  const m = /Done\. PASS=(\d+) WARN=(\d+) ERROR=(\d+) SKIP=(\d+) NO-OP=\d+ TOTAL=(\d+)/.exec(output);
  assert.ok(m, `no summary line in:\n${output}`);
  return { pass: +m[1], warn: +m[2], error: +m[3], skip: +m[4], total: +m[5] };
}

for (const engine of ENGINES) {
  describe(`jaffle_shop-like project on ${engine.name}`, { skip: await engine.skipReason() }, () => {
    let p: Project;
    before(async () => {
      p = await Project.create(engine, fixture('jaffle_like'), { threads: engine.name === 'postgres' ? 4 : 1 });
    });
    after(async () => {
      await p?.cleanup();
    });

    it('build: 27 nodes (3 seeds, 5 models, 19 tests), all pass, exit 0', async () => {
      const r = await p.cli('build');
      assert.equal(r.code, 0, r.output);
      assert.match(r.stdout, /Found 5 models, 3 seeds, 19 data tests/, r.output);
      assert.deepEqual(summary(r.stdout), { pass: 27, warn: 0, error: 0, skip: 0, total: 27 }, r.output);
      // Generated test names exactly as dbt prints them.
      assert.match(r.stdout, / PASS accepted_values_stg_baskets_status__placed__shipped__completed__return_pending__returned /);
      assert.match(r.stdout, / PASS relationships_baskets_shopper_id__shopper_id__ref_shoppers_ /);
    });

    it('manifest: dbt unique_ids for seeds, models and the generated tests', () => {
      const m = p.json<{ nodes: Record<string, { resource_type: string; config: { materialized: string } }> }>('target/manifest.json');
      const ids = Object.keys(m.nodes).sort();
      assert.deepEqual(
        ids.filter((id) => !id.startsWith('test.')),
        [
          'model.jaffle_like.baskets',
          'model.jaffle_like.shoppers',
          'model.jaffle_like.stg_baskets',
          'model.jaffle_like.stg_charges',
          'model.jaffle_like.stg_shoppers',
          'seed.jaffle_like.raw_baskets',
          'seed.jaffle_like.raw_charges',
          'seed.jaffle_like.raw_shoppers',
        ],
      );
      assert.deepEqual(
        ids.filter((id) => id.startsWith('test.')),
        EXPECTED_TEST_IDS,
      );
      // Configs written without `+` in dbt_project.yml: marts tables, staging views.
      assert.equal(m.nodes['model.jaffle_like.baskets'].config.materialized, 'table');
      assert.equal(m.nodes['model.jaffle_like.stg_charges'].config.materialized, 'view');
    });

    it('relations: seeds and marts are tables, staging models are views', async () => {
      assert.deepEqual(await p.relations(), {
        baskets: 'table',
        raw_baskets: 'table',
        raw_charges: 'table',
        raw_shoppers: 'table',
        shoppers: 'table',
        stg_baskets: 'view',
        stg_charges: 'view',
        stg_shoppers: 'view',
      });
    });

    it('rows: seed counts, the set/for-loop pivot and integer cents division', async () => {
      const [counts] = await p.rows<Record<string, unknown>>(
        'select (select count(*) from raw_charges) as raw_charges, (select count(*) from shoppers) as shoppers, (select count(*) from baskets) as baskets',
      );
      assert.deepEqual(Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, Number(v)])), { raw_charges: 10, shoppers: 6, baskets: 8 });
      const baskets = await p.rows<Record<string, unknown>>(
        'select basket_id, amount, card_amount, voucher_amount, cash_amount from baskets where basket_id in (1, 5) order by basket_id',
      );
      assert.deepEqual(
        baskets.map((b) => [b.basket_id, b.amount, b.card_amount, b.voucher_amount, b.cash_amount].map(Number)),
        [
          [1, 12, 10, 2, 0], // 1050 and 299 cents → 10 + 2
          [5, 6, 0, 5, 1], // 500 and 150 cents → 5 + 1
        ],
      );
      const shoppers = await p.rows<Record<string, unknown>>(
        `select shopper_id, to_char(first_basket, 'YYYY-MM-DD') as first_basket, number_of_baskets, lifetime_value
           from shoppers where shopper_id in (1, 6) order by shopper_id`,
      );
      assert.deepEqual(
        shoppers.map((s) => [Number(s.shopper_id), s.first_basket, s.number_of_baskets === null ? null : Number(s.number_of_baskets), s.lifetime_value === null ? null : Number(s.lifetime_value)]),
        [
          [1, '2024-03-01', 2, 32],
          [6, null, null, null], // no baskets: left joins give nulls
        ],
      );
    });

    it('test alone: 19 tests pass; ls lists 27 nodes', async () => {
      const t = await p.cli('test');
      assert.equal(t.code, 0, t.output);
      assert.deepEqual(summary(t.stdout), { pass: 19, warn: 0, error: 0, skip: 0, total: 19 }, t.output);
      const ls = await p.cli('ls');
      assert.equal(ls.code, 0, ls.output);
      const lines = ls.stdout.trim().split('\n');
      assert.equal(lines.length, 27, ls.output);
      assert.ok(lines.includes('jaffle_like.staging.stg_baskets'), ls.output);
      assert.ok(lines.includes('jaffle_like.staging.accepted_values_stg_baskets_status__placed__shipped__completed__return_pending__returned'), ls.output);
    });

    it('a status outside accepted_values fails its test and skips everything downstream (exit 1)', async () => {
      p.append('seeds/raw_baskets.csv', '9,4,2024-03-12,lost\n');
      p.append('seeds/raw_charges.csv', '11,9,cash,500\n');
      const r = await p.cli('build');
      assert.equal(r.code, 1, r.output);
      assert.match(r.stdout, / FAIL 1 accepted_values_stg_baskets_status__placed__shipped__completed__return_pending__returned /, r.output);
      // Skipped: the 2 mart models and their 11 tests.
      assert.deepEqual(summary(r.stdout), { pass: 13, warn: 0, error: 1, skip: 13, total: 27 }, r.output);
      // The seeds were reloaded; the mart tables still hold the previous build's rows.
      const [counts] = await p.rows<Record<string, unknown>>('select (select count(*) from raw_baskets) as raw_baskets, (select count(*) from baskets) as baskets');
      assert.deepEqual([Number(counts.raw_baskets), Number(counts.baskets)], [9, 8]);
    });
  });
}
