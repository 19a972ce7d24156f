/**
 * Unit tests (dbt ≥ 1.8 `unit_tests:`), end to end on both engines: given
 * inputs replaced by typed fixture CTEs (columns not given are typed nulls,
 * typed from the input relations in the database), dict / csv / sql formats,
 * a fixture file under tests/fixtures/, a source input, `overrides` of
 * is_incremental, other macros (also `dbt.x`), vars and env_vars, `+tags` from
 * dbt_project.yml's `unit_tests:`; `tsdbt build` runs a model's unit tests
 * before it and a failing one skips the model and its descendants (dbt's
 * BuildTask); `tsdbt test --select test_type:unit`; the diff of actual vs
 * expected rows on failure; manifest.json's `unit_tests` and run_results.
 */
import { it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describeEngines, Project, projectYml, type Files } from './harness.ts';

const UNIT: Files = {
  'dbt_project.yml': projectYml('ut', 'vars:\n  currency: EUR\nunit_tests:\n  ut:\n    +tags: [unit]\n'),
  'models/eph_base.sql': "{{ config(materialized='ephemeral') }}\nselect id, kind from {{ ref('raw_events') }}\n",
  'models/from_eph.sql': "select id, upper(kind) as kind_u from {{ ref('eph_base') }}\n",
  'macros/stamp.sql': '{% macro stamp() %}now(){% endmacro %}\n',
  'models/stamped.sql': "select {{ stamp() }}::text as stamp, {{ dbt.current_timestamp() }} is not null as has_ts\n",
  'seeds/raw_events.csv': 'id,kind\n1,a\n2,b\n3,c\n',
  'seeds/raw_customers.csv': 'id,name,email\n1,Ann,ANN@X.COM\n2,Bob,bob\n',
  'models/sources.yml': `version: 2
sources:
  - name: shop
    schema: "{{ target.schema }}"
    tables:
      - name: orders
        identifier: orders_src
`,
  'models/stg_customers.sql': "select id, name, lower(email) as email from {{ ref('raw_customers') }}\n",
  'models/customer_orders.sql': `select c.id, c.name, count(o.id) as n_orders, coalesce(sum(o.amount), 0) as total,
  '{{ var("currency") }}' as currency, '{{ env_var("TSDBT_UT_REGION", "eu") }}' as region
from {{ ref('stg_customers') }} c
left join {{ source('shop', 'orders') }} o on o.customer_id = c.id
group by c.id, c.name
`,
  'models/email_flags.sql': "select id, email, email like '%@%.%' as is_valid from {{ ref('stg_customers') }}\n",
  'models/downstream.sql': "select id from {{ ref('email_flags') }}\n",
  'models/inc_events.sql': `{{ config(materialized='incremental', unique_key='id') }}
select id, kind from {{ ref('raw_events') }}
{% if is_incremental() %}where id > (select coalesce(max(id), 0) from {{ this }}){% endif %}
`,
  'models/schema.yml': `version: 2
models:
  - name: customer_orders
    columns:
      - name: id
        data_tests: [not_null]
`,
  'tests/fixtures/two_customers.csv': 'id,email\n1,a@b.co\n2,nope\n',
  'models/unit_tests.yml': `unit_tests:
  - name: test_orders_per_customer
    description: counts and sums orders per customer (dict rows, a source input, omitted columns are null)
    model: customer_orders
    config:
      tags: [money]
    given:
      - input: ref('stg_customers')
        rows:
          - {id: 1, name: a}
          - {id: 2, name: b}
      - input: source('shop', 'orders')
        rows:
          - {id: 10, customer_id: 1, amount: 5}
          - {id: 11, customer_id: 1, amount: 7.5}
    expect:
      rows:
        - {id: 2, n_orders: 0, total: 0}
        - {id: 1, n_orders: 2, total: 12.5}

  - name: test_currency_from_vars
    model: customer_orders
    overrides:
      vars: {currency: USD}
      env_vars: {TSDBT_UT_REGION: us}
    given:
      - input: ref('stg_customers')
        format: csv
        rows: |
          id,name
          7,x
      - input: source('shop', 'orders')
        rows: []
    expect:
      format: csv
      rows: |
        id,currency,region
        7,USD,us

  - name: test_flags_from_fixture
    model: email_flags
    given:
      - input: ref('stg_customers')
        format: csv
        fixture: two_customers
    expect:
      format: sql
      rows: |
        select 1 as id, 'a@b.co' as email, true as is_valid
        union all
        select 2, 'nope', false

  - name: test_flags_null_columns
    model: email_flags
    given:
      - input: ref('stg_customers')
        rows: [{id: 5}]
    expect:
      rows:
        - {id: 5, email: null, is_valid: null}

  - name: test_flags_wrong
    model: email_flags
    given:
      - input: ref('stg_customers')
        rows:
          - {id: 1, email: x@y.com}
          - {id: 2, email: bad}
    expect:
      rows:
        - {id: 1, is_valid: true}
        - {id: 2, is_valid: true}

  - name: test_incremental_run
    model: inc_events
    overrides:
      macros: {is_incremental: true}
    given:
      - input: ref('raw_events')
        rows: [{id: 1, kind: a}, {id: 2, kind: b}, {id: 3, kind: c}]
      - input: this
        format: sql
        rows: select 2 as id, 'b'::text as kind
    expect:
      rows: [{id: 3, kind: c}]

  - name: test_macro_overrides
    model: stamped
    overrides:
      macros:
        stamp: "'fixed'"
        dbt.current_timestamp: "null"
    given: []
    expect:
      rows: [{stamp: fixed, has_ts: false}]

  - name: test_ephemeral_input
    model: from_eph
    given:
      - input: ref('eph_base')
        format: sql
        rows: select 1 as id, 'x'::text as kind
    expect:
      rows: [{id: 1, kind_u: X}]

  - name: test_full_run
    model: inc_events
    overrides:
      macros: {is_incremental: false}
    given:
      - input: ref('raw_events')
        rows: [{id: 1, kind: a}, {id: 2, kind: b}]
    expect:
      rows: [{id: 1}, {id: 2}]
`,
};

const UT = (name: string, model: string) => `unit_test.ut.${model}.${name}`;
const ALL_UNIT = [
  UT('test_orders_per_customer', 'customer_orders'),
  UT('test_currency_from_vars', 'customer_orders'),
  UT('test_flags_from_fixture', 'email_flags'),
  UT('test_flags_null_columns', 'email_flags'),
  UT('test_flags_wrong', 'email_flags'),
  UT('test_incremental_run', 'inc_events'),
  UT('test_full_run', 'inc_events'),
  UT('test_macro_overrides', 'stamped'),
  UT('test_ephemeral_input', 'from_eph'),
].sort();

interface Result {
  unique_id: string;
  status: string;
  message: string | null;
  failures: number | null;
  compiled_code: string | null;
}

await describeEngines('unit tests', (engine) => {
  let p: Project;
  before(async () => {
    p = await Project.create(engine, UNIT);
    // The source table exists before the run (sources are not built by dbt); its column types type the fixture rows.
    await p.query(`create schema if not exists "${p.schema}"`);
    await p.query(`create table "${p.schema}".orders_src (id integer, customer_id integer, amount numeric(10,2))`);
  });
  after(async () => {
    await p?.cleanup();
  });

  const results = (): Result[] => (JSON.parse(p.read('target/run_results.json')!) as { results: Result[] }).results;
  const statusOf = (id: string) => results().find((r) => r.unique_id === id)?.status;
  const relations = async () =>
    (await p.rows<{ table_name: string }>(`select table_name from information_schema.tables where table_schema = '${p.schema}' order by 1`)).map((r) => r.table_name);

  it('build: unit tests run before their model; a failing one skips the model and its descendants (exit 1)', async () => {
    const r = await p.cli('build');
    assert.equal(r.code, 1, r.output);
    for (const id of ALL_UNIT) {
      assert.equal(statusOf(id), id.endsWith('test_flags_wrong') ? 'fail' : 'pass', `${id}\n${r.output}`);
    }
    assert.equal(statusOf('model.ut.email_flags'), 'skipped');
    assert.equal(statusOf('model.ut.downstream'), 'skipped');
    assert.equal(statusOf('model.ut.customer_orders'), 'success');
    assert.equal(statusOf('model.ut.inc_events'), 'success');
    const rels = await relations();
    assert.ok(rels.includes('customer_orders') && rels.includes('inc_events'), rels.join(','));
    assert.ok(!rels.includes('email_flags') && !rels.includes('downstream'), `skipped models must not be built: ${rels.join(',')}`);
    // no temporary or helper relation is left behind
    assert.ok(!rels.some((t) => t.startsWith('tsdbt_unit')), rels.join(','));
  });

  it('prints the rows that differ, marked +++ (actual) and --- (expected), as dbt', () => {
    const failed = results().find((x) => x.unique_id === UT('test_flags_wrong', 'email_flags'))!;
    assert.equal(failed.failures, 1);
    assert.match(failed.compiled_code ?? '', /dbt_internal_unit_test_actual/);
    assert.match(failed.message ?? '', /actual differs from expected/);
    assert.match(failed.message ?? '', /^@@\s+,id\s+,is_valid$/m);
    assert.match(failed.message ?? '', /^\+\+\+\s*,2\s+,false$/m);
    assert.match(failed.message ?? '', /^---\s*,2\s+,true$/m);
    assert.match(failed.message ?? '', /^\s+,1\s+,true$/m);
  });

  it('the console shows the failure with its file and the diff', async () => {
    const r = await p.cli('test', ['--select', 'test_flags_wrong']);
    assert.equal(r.code, 1, r.output);
    assert.match(r.output, /FAIL 1 test_flags_wrong/);
    assert.match(r.output, /Failure in unit_test test_flags_wrong \(models\/unit_tests\.yml:\d+\)/);
    assert.match(r.output, /\+\+\+\s*,2\s+,false/);
    assert.deepEqual(results().map((x) => x.unique_id), [UT('test_flags_wrong', 'email_flags')]);
  });

  it('tsdbt test --select test_type:unit runs the unit tests only (not the data tests)', async () => {
    const r = await p.cli('test', ['--select', 'test_type:unit']);
    assert.equal(r.code, 1, r.output);
    assert.deepEqual(results().map((x) => x.unique_id).sort(), ALL_UNIT);
    assert.match(r.output, /9 unit tests/);
  });

  it('resource_type:unit_test, tag: and --exclude select unit tests; all passing exits 0', async () => {
    const r = await p.cli('test', ['--select', 'resource_type:unit_test', '--exclude', 'test_flags_wrong']);
    assert.equal(r.code, 0, r.output);
    assert.equal(results().length, 8);
    const t = await p.cli('test', ['--select', 'tag:money']);
    assert.equal(t.code, 0, t.output);
    assert.deepEqual(results().map((x) => x.unique_id), [UT('test_orders_per_customer', 'customer_orders')]);
    // +tags from dbt_project.yml's unit_tests: reach every unit test
    const all = await p.cli('test', ['--select', 'tag:unit', '--exclude', 'unit_test:ut.test_flags_wrong']);
    assert.equal(all.code, 0, all.output);
    assert.equal(results().length, 8);
  });

  it('tsdbt test runs data tests and unit tests together', async () => {
    const r = await p.cli('test', ['--select', 'customer_orders']);
    assert.equal(r.code, 0, r.output);
    const ids = results().map((x) => x.unique_id).sort();
    assert.deepEqual(ids.filter((id) => id.startsWith('unit_test.')), [UT('test_currency_from_vars', 'customer_orders'), UT('test_orders_per_customer', 'customer_orders')]);
    assert.ok(ids.some((id) => id.startsWith('test.ut.not_null_customer_orders_id')), ids.join(','));
  });

  it('manifest.json has the unit tests (unique_id, resource_type, depends_on, given/expect) and the child_map edge', () => {
    const m = JSON.parse(p.read('target/manifest.json')!) as {
      unit_tests: Record<string, { resource_type: string; model: string; depends_on: { nodes: string[] }; given: { input: string; format: string; rows: unknown }[]; expect: { format: string }; fqn: string[]; config: { tags: string[] } }>;
      child_map: Record<string, string[]>;
      nodes: Record<string, unknown>;
    };
    assert.deepEqual(Object.keys(m.unit_tests).sort(), ALL_UNIT);
    const u = m.unit_tests[UT('test_orders_per_customer', 'customer_orders')]!;
    assert.equal(u.resource_type, 'unit_test');
    assert.equal(u.model, 'customer_orders');
    assert.deepEqual(u.depends_on.nodes, ['model.ut.customer_orders']);
    assert.deepEqual(u.fqn, ['ut', 'customer_orders', 'test_orders_per_customer']);
    assert.deepEqual(u.config.tags, ['unit', 'money']);
    assert.equal(u.given[1]!.input, "source('shop', 'orders')");
    const fx = m.unit_tests[UT('test_flags_from_fixture', 'email_flags')]!;
    assert.deepEqual(fx.given[0]!.rows, [{ id: '1', email: 'a@b.co' }, { id: '2', email: 'nope' }]);
    assert.equal(fx.expect.format, 'sql');
    assert.ok(m.child_map['model.ut.customer_orders']!.includes(UT('test_orders_per_customer', 'customer_orders')));
    assert.ok(!Object.keys(m.nodes).some((id) => id.startsWith('unit_test.')));
  });

  it('writes the unit test SQL to target/run/, with the inputs as CTEs cast to the input columns', () => {
    const sql = p.read('target/run/ut/models/unit_tests.yml/customer_orders/test_orders_per_customer.sql') ?? '';
    assert.match(sql, /__dbt__cte__stg_customers as \(/);
    assert.match(sql, /__dbt__cte__shop__orders as \(/);
    assert.match(sql, /cast\(7\.5 as numeric\(10,2\)\) as "amount"/);
    assert.match(sql, /cast\(null as text\) as "email"/);
  });

  it('state:modified selects a unit test whose rows changed, and no other', async () => {
    p.write({ 'prod-state/manifest.json': p.read('target/manifest.json')! });
    const yml = p.read('models/unit_tests.yml')!;
    p.write({ 'models/unit_tests.yml': yml.replace('rows: [{id: 1}, {id: 2}]', 'rows: [{id: 2}, {id: 1}]') });
    const r = await p.cli('ls', ['--select', 'state:modified', '--state', join(p.dir, 'prod-state')]);
    assert.equal(r.code, 0, r.output);
    assert.deepEqual(r.stdout.trim().split('\n'), ['unit_test:ut.test_full_run']);
    p.write({ 'models/unit_tests.yml': yml });
  });

  it('a ref the model makes that is not given is an error naming it', async () => {
    p.write({
      'models/unit_tests_bad.yml': `unit_tests:
  - name: test_missing_input
    model: downstream
    given: []
    expect:
      rows: []
`,
    });
    const r = await p.cli('test', ['--select', 'test_missing_input']);
    assert.equal(r.code, 1, r.output);
    assert.match(r.output, /uses ref\('email_flags'\), which is not given as an input/);
    assert.match(r.output, /input: ref\('email_flags'\)/);
    p.write({ 'models/unit_tests_bad.yml': null });
  });

  it('an ephemeral input given as dict rows is an error asking for format: sql (its columns cannot be read), as dbt', async () => {
    p.write({
      'models/unit_tests_bad.yml': `unit_tests:
  - name: test_eph_dict
    model: from_eph
    given:
      - input: ref('eph_base')
        rows: [{id: 1, kind: x}]
    expect:
      rows: [{id: 1, kind_u: X}]
`,
    });
    const r = await p.cli('test', ['--select', 'test_eph_dict']);
    assert.equal(r.code, 1, r.output);
    assert.match(r.output, /input ref\('eph_base'\) is an ephemeral model/);
    assert.match(r.output, /format: sql/);
    p.write({ 'models/unit_tests_bad.yml': null });
  });

  it('a value that does not fit its column type is an error saying so, with the statements in target/run/', async () => {
    p.write({
      'models/unit_tests_bad.yml': `unit_tests:
  - name: test_bad_type
    model: email_flags
    given:
      - input: ref('stg_customers')
        rows: [{id: abc}]
    expect:
      rows: []
`,
    });
    const r = await p.cli('test', ['--select', 'test_bad_type']);
    assert.equal(r.code, 1, r.output);
    assert.match(r.output, /models\/unit_tests_bad\.yml:2 .*An error occurred during execution of unit test 'test_bad_type'\. There may be an error in the unit test definition: check the data types\./);
    assert.match(r.output, /invalid input syntax for type integer: "abc"/);
    assert.match(p.read('target/run/ut/models/unit_tests_bad.yml/email_flags/test_bad_type.sql') ?? '', /cast\('abc' as integer\)/);
    p.write({ 'models/unit_tests_bad.yml': null });
  });

  it('a unit test of a model that does not exist, or an incremental model without an is_incremental override, is a parse error', async () => {
    p.write({
      'models/unit_tests_bad.yml': `unit_tests:
  - name: t1
    model: no_such_model
    given: []
    expect: {rows: []}
  - name: t2
    model: inc_events
    given:
      - input: ref('raw_events')
        rows: []
    expect: {rows: []}
`,
    });
    const r = await p.cli('test');
    assert.equal(r.code, 2, r.output);
    assert.match(r.output, /Unable to find model 'ut\.no_such_model' for unit test 't1'/);
    assert.match(r.output, /Boolean override for 'is_incremental' must be provided for unit test 't2' in model 'inc_events'/);
    assert.match(r.output, /models\/unit_tests_bad\.yml:\d+/);
    p.write({ 'models/unit_tests_bad.yml': null });
  });
});
