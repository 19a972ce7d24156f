/**
 * Issue 3, data tests end to end on both engines, on tests/fixtures/dq_known_bad:
 * every built-in test type passes and fails, at severity error and warn, with
 * error_if/warn_if thresholds, where, limit, store_failures (the audit table holds
 * exactly the failing rows), custom generic tests (flat and `arguments:` form),
 * singular tests; selection (`--select orders`, test_type:, test_name:); exit codes.
 */
import { it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describeEngines, Project, fixture, type CliResult } from './harness.ts';

/** Expected status and failures of every test in the fixture after `tsdbt test`. */
const EXPECTED: Record<string, [string, number]> = {
  unique_orders_id: ['fail', 1],
  not_null_orders_id: ['pass', 0],
  not_null_orders_customer_id: ['warn', 1],
  relationships_orders_customer_id__id__ref_customers_: ['fail', 1],
  orders_customer_known_except_99: ['pass', 0],
  accepted_values_orders_status__placed__shipped__completed: ['warn', 2],
  accepted_values_orders_status__placed__shipped__completed__lost: ['pass', 0],
  is_positive_orders_amount: ['fail', 1],
  unique_customers_id: ['pass', 0],
  not_null_customers_id: ['pass', 0],
  accepted_values_customers_tier__gold__silver__bronze: ['fail', 1],
  not_null_customers_name: ['warn', 1],
  max_length_customers_name__5: ['fail', 1],
  assert_no_huge_orders: ['pass', 0],
  assert_customer_totals_positive: ['warn', 2],
};

/** The tests that depend on orders (dbt's eager indirect selection: any parent selected). */
const ON_ORDERS = [
  'accepted_values_orders_status__placed__shipped__completed',
  'accepted_values_orders_status__placed__shipped__completed__lost',
  'assert_customer_totals_positive',
  'assert_no_huge_orders',
  'is_positive_orders_amount',
  'not_null_orders_customer_id',
  'not_null_orders_id',
  'orders_customer_known_except_99',
  'relationships_orders_customer_id__id__ref_customers_',
  'unique_orders_id',
];

await describeEngines('data tests', (engine) => {
  let p: Project;
  /** run_results.json of the last invocation as name → [status, failures]. */
  const outcome = (): Record<string, [string, number]> => {
    const manifest = p.json('target/manifest.json');
    const results = p.json('target/run_results.json').results as { unique_id: string; status: string; failures: number | null }[];
    return Object.fromEntries(results.map((r) => [manifest.nodes[r.unique_id]?.name ?? r.unique_id, [r.status, r.failures ?? 0]]));
  };
  const names = () => Object.keys(outcome()).sort();

  before(async () => {
    p = await Project.create(engine, fixture('dq_known_bad'));
    for (const cmd of ['seed', 'run']) {
      const r = await p.cli(cmd);
      assert.equal(r.code, 0, r.output);
    }
  });
  after(async () => {
    await p?.cleanup();
  });

  let full: CliResult;
  it('tsdbt test: every test passes, warns or fails as its data and config say; exit 1', async () => {
    full = await p.cli('test');
    assert.equal(full.code, 1, full.output);
    assert.deepEqual(outcome(), EXPECTED);
    assert.match(full.stdout, /PASS=6 WARN=4 ERROR=5 SKIP=0 NO-OP=0 TOTAL=15/);
  });

  it("a failing test's output: name, failing-row count, file, compiled SQL path, first failing rows", () => {
    const block = full.stdout.slice(full.stdout.indexOf('FAIL 1 unique_orders_id'));
    assert.ok(block.length > 0, full.output);
    const lines = block.split('\n').slice(0, 7).join('\n');
    assert.match(lines, /configured to fail if != 0/);
    assert.match(lines, /models\/schema\.yml/);
    const compiled = /compiled SQL: (\S+)/.exec(lines)?.[1];
    assert.equal(compiled, 'target/compiled/dq/models/schema.yml/unique_orders_id.sql');
    assert.ok(existsSync(join(p.dir, compiled!)), `${compiled} exists`);
    assert.match(lines, /unique_field \| n_records/);
    assert.match(lines, /^\s+6 \|\s+2$/m);
  });

  it('store_failures: the audit table holds exactly the failing rows', async () => {
    const audit = `${p.schema}_dbt_test__audit`;
    assert.deepEqual(await p.rows(`select value_field, n_records::int as n from ${audit}.accepted_values_customers_tier__gold__silver__bronze`), [
      { value_field: 'platinum', n: 1 },
    ]);
    // not_null selects the whole row when failures are stored.
    assert.deepEqual(await p.rows(`select id, name, tier from ${audit}.not_null_customers_name`), [{ id: 3, name: null, tier: 'bronze' }]);
    // Only the configured tests were stored.
    assert.deepEqual(Object.keys(await p.relations(audit)).sort(), ['accepted_values_customers_tier__gold__silver__bronze', 'not_null_customers_name']);
  });

  it('--store-failures stores every selected test', async () => {
    const r = await p.cli('test', ['--select', 'unique_orders_id', '--store-failures']);
    assert.equal(r.code, 1, r.output);
    assert.deepEqual(await p.rows(`select unique_field, n_records::int as n from ${p.schema}_dbt_test__audit.unique_orders_id`), [{ unique_field: 6, n: 2 }]);
  });

  it('tsdbt test --select orders selects the tests on orders', async () => {
    const r = await p.cli('test', ['--select', 'orders']);
    assert.equal(r.code, 1, r.output);
    assert.deepEqual(names(), ON_ORDERS);
  });

  it('test_type:singular — only warnings: exit 0; --warn-error turns the warning into exit 1', async () => {
    let r = await p.cli('test', ['--select', 'test_type:singular']);
    assert.equal(r.code, 0, r.output);
    assert.deepEqual(outcome(), { assert_customer_totals_positive: ['warn', 2], assert_no_huge_orders: ['pass', 0] });
    assert.match(r.stdout, /PASS=1 WARN=1 ERROR=0/);
    r = await p.cli('test', ['--select', 'test_type:singular', '--warn-error']);
    assert.equal(r.code, 1, r.output);
    assert.equal(outcome().assert_customer_totals_positive[0], 'fail');
  });

  it('test_name:unique and test_type:generic', async () => {
    let r = await p.cli('test', ['--select', 'test_name:unique']);
    assert.equal(r.code, 1, r.output);
    assert.deepEqual(outcome(), { unique_customers_id: ['pass', 0], unique_orders_id: ['fail', 1] });
    r = await p.cli('test', ['--select', 'test_type:generic', '--exclude', 'test_name:unique', 'test_name:accepted_values', 'test_name:relationships', 'test_name:is_positive', 'test_name:max_length']);
    assert.equal(r.code, 0, r.output);
    assert.deepEqual(names(), ['not_null_customers_id', 'not_null_customers_name', 'not_null_orders_customer_id', 'not_null_orders_id']);
    // orders_customer_known_except_99 is a relationships test under its own name: excluded too.
  });

  it('a project error exits 2 and names the file', async () => {
    p.write({ 'tests/broken_ref.sql': "select * from {{ ref('no_such_model') }}\n" });
    try {
      const r = await p.cli('test');
      assert.equal(r.code, 2, r.output);
      assert.match(r.stderr, /tests\/broken_ref\.sql/);
      assert.match(r.stderr, /no_such_model/);
    } finally {
      p.write({ 'tests/broken_ref.sql': null });
    }
  });

  it('stored failures are replaced each run: fixed data leaves an empty audit table', async () => {
    p.write({ 'seeds/raw_customers.csv': p.read('seeds/raw_customers.csv')!.replace('platinum', 'gold') });
    for (const cmd of ['seed', 'run']) {
      const r = await p.cli(cmd, ['--select', cmd === 'seed' ? 'raw_customers' : 'customers']);
      assert.equal(r.code, 0, r.output);
    }
    const r = await p.cli('test', ['--select', 'accepted_values_customers_tier__gold__silver__bronze']);
    assert.equal(r.code, 0, r.output);
    assert.equal(await p.count(`${p.schema}_dbt_test__audit.accepted_values_customers_tier__gold__silver__bronze`), 0);
  });
});

// Long generic test names: dbt keeps the full name as `name`/unique_id but uses
// `<first 30 chars of "<test>_<model>">_<md5 of the full name>` as the alias (the
// store_failures table) and as the compiled file name.
const LONG_MODEL = 'a_model_with_quite_a_long_name';
const LONG_NAME = `accepted_values_${LONG_MODEL}_status_with_a_long_column_name__ok__placed__shipped__completed__returned`;
const LONG_SHORT = `${`accepted_values_${LONG_MODEL}`.slice(0, 30)}_${createHash('md5').update(LONG_NAME).digest('hex')}`;
const VERY_LONG_VALUES = Array.from({ length: 40 }, (_, i) => `'value_number_${i}'`).join(', ');

await describeEngines('long test names', (engine) => {
  let p: Project;
  before(async () => {
    p = await Project.create(engine, {
      'dbt_project.yml': 'name: longnames\nversion: "1.0.0"\nconfig-version: 2\nprofile: longnames\n',
      [`models/${LONG_MODEL}.sql`]: "select 'zzz'::text as status_with_a_long_column_name union all select 'ok'\n",
      'models/s.yml': `version: 2
models:
  - name: ${LONG_MODEL}
    columns:
      - name: status_with_a_long_column_name
        data_tests:
          - accepted_values:
              values: ['ok', 'placed', 'shipped', 'completed', 'returned']
              config:
                store_failures: true
`,
    });
  });
  after(async () => {
    await p?.cleanup();
  });

  it(
    'a 64+ character test name: the audit table is the hashed short name',
    async () => {
      const r = await p.cli('build');
      assert.equal(r.code, 1, r.output);
      assert.match(r.stdout, new RegExp(`FAIL 1 ${LONG_NAME}`));
      assert.deepEqual(Object.keys(await p.relations(`${p.schema}_dbt_test__audit`)), [LONG_SHORT]);
      assert.ok(p.read(`target/compiled/longnames/models/s.yml/${LONG_SHORT}.sql`), 'compiled SQL under the short name');
    },
  );

  it(
    'a test name longer than a file name may be (255 bytes) still runs',
    async () => {
      p.write({
        // dbt allows one description per model: replace the properties file.
        'models/s.yml': `version: 2
models:
  - name: ${LONG_MODEL}
    columns:
      - name: status_with_a_long_column_name
        data_tests:
          - accepted_values:
              values: [${VERY_LONG_VALUES}]
`,
      });
      const r = await p.cli('test', ['--select', 'test_name:accepted_values']);
      assert.equal(r.code, 1, r.output);
      assert.doesNotMatch(r.output, /Internal error|ENAMETOOLONG/);
    },
  );
});
