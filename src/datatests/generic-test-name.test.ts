// Expected names and hashes were derived by running dbt-core 1.x's naming and
// hashing algorithm by hand (md5 over name + Python repr of test_metadata).
// The jaffle_shop ids are the ones dbt itself generates for that project.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  genericTestKwargs,
  genericTestNames,
  genericTestNodeName,
  genericTestUniqueId,
  renderTestKwargs,
  type TestTarget,
} from './generic-test-name.ts';
import { pythonRepr, pythonStr } from './python-repr.ts';
import { parseTestEntry } from './test-spec.ts';

const at = { file: 'models/schema.yml', line: 3 };
const model = (name: string): TestTarget => ({ resourceType: 'model', name });

function ids(entry: unknown, target: TestTarget, column?: string) {
  const spec = parseTestEntry(entry, at);
  const { name, shortName } = genericTestNames(spec, target, column);
  return { name, shortName, uid: genericTestUniqueId('jaffle_shop', name, spec, target, column) };
}

describe('generic test names and unique_ids (dbt jaffle_shop)', () => {
  it('unique', () => {
    const r = ids('unique', model('customers'), 'customer_id');
    assert.equal(r.name, 'unique_customers_customer_id');
    assert.equal(r.shortName, r.name);
    assert.equal(r.uid, 'test.jaffle_shop.unique_customers_customer_id.c5af1ff4b1');
  });
  it('not_null', () => {
    const r = ids('not_null', model('orders'), 'order_id');
    assert.equal(r.uid, 'test.jaffle_shop.not_null_orders_order_id.cf6c17daed');
  });
  it('relationships', () => {
    const r = ids({ relationships: { to: "ref('customers')", field: 'customer_id' } }, model('orders'), 'customer_id');
    assert.equal(r.uid, 'test.jaffle_shop.relationships_orders_customer_id__customer_id__ref_customers_.c6ec7f58f2');
  });
  it('accepted_values with a name of 64+ characters: full name kept, short name hashed', () => {
    const values = ['placed', 'shipped', 'completed', 'return_pending', 'returned'];
    const r = ids({ accepted_values: { values } }, model('orders'), 'status');
    assert.equal(r.name, 'accepted_values_orders_status__placed__shipped__completed__return_pending__returned');
    assert.equal(r.uid, `test.jaffle_shop.${r.name}.be6b5b5ec3`);
    assert.equal(r.shortName, 'accepted_values_orders_1ce6ab157c285f7cd2ac656013faf758');
    // the same test written with the 1.10+ arguments: form and a config gets the same identity
    const r2 = ids({ accepted_values: { arguments: { values }, config: { severity: 'warn' } } }, model('orders'), 'status');
    assert.deepEqual(r2, r);
  });
});

describe('generic test names and unique_ids (derived by hand)', () => {
  it('source test', () => {
    const r = ids('unique', { resourceType: 'source', sourceName: 'raw', name: 'events' }, 'id');
    assert.equal(r.name, 'source_unique_raw_events_id');
    assert.equal(r.uid, 'test.jaffle_shop.source_unique_raw_events_id.207e922098');
  });
  it('accepted_values with quote: false prints Python values', () => {
    const r = ids({ accepted_values: { values: [1, 2], quote: false } }, model('orders'), 'status');
    assert.equal(r.name, 'accepted_values_orders_status__False__1__2');
    assert.equal(r.uid, 'test.jaffle_shop.accepted_values_orders_status__False__1__2.3526cede0c');
  });
  it('namespaced test', () => {
    const r = ids({ 'dbt_utils.expression_is_true': { expression: 'col_a + col_b = total' } }, model('orders'));
    assert.equal(r.name, 'dbt_utils_expression_is_true_orders_col_a_col_b_total');
    assert.equal(r.uid, 'test.jaffle_shop.dbt_utils_expression_is_true_orders_col_a_col_b_total.91d0c4eccf');
  });
  it('versioned model', () => {
    const r = ids('unique', { resourceType: 'model', name: 'dim', version: 2 }, 'id');
    assert.equal(r.name, 'unique_dim_v2_id');
    assert.equal(r.uid, 'test.jaffle_shop.unique_dim_v2_id.fb0fd31dac');
  });
  it('quotes and non-ASCII in values (Python repr in the hash)', () => {
    const r = ids({ accepted_values: { values: ["it's", 'a"b', 'x\'y"z', 'é\n'] } }, model('orders'), 'status');
    assert.equal(r.name, 'accepted_values_orders_status__it_s__a_b__x_y_z___');
    assert.equal(r.uid, `test.jaffle_shop.${r.name}.beb0388bbb`);
  });
  it('relationships to another model', () => {
    const r = ids({ relationships: { to: "ref('dim_user')", field: 'user_key' } }, model('orders'), 'user_id');
    assert.equal(r.name, 'relationships_orders_user_id__user_key__ref_dim_user_');
    assert.equal(r.uid, `test.jaffle_shop.${r.name}.5dcf9b8e45`);
  });
  it('an SQL expression as column_name', () => {
    const r = ids({ unique: { column_name: "(userid || '-' || time_started)" } }, model('sessions'));
    assert.equal(r.name, 'unique_sessions__userid_time_started_');
    assert.equal(r.uid, `test.jaffle_shop.${r.name}.ecbd540a28`);
  });
  it('namespaced source test with a mapping argument and a long name', () => {
    const r = ids(
      { 'dbt_utils.equal_rowcount': { compare_model: "ref('events_copy')", opts: { b: null, a: true, n: 1.5 } } },
      { resourceType: 'source', sourceName: 'raw', name: 'events' },
    );
    assert.equal(r.name, 'dbt_utils_source_equal_rowcount_raw_events_ref_events_copy___None__True__1_5');
    assert.equal(r.shortName, 'dbt_utils_source_equal_rowcoun_a0d349d18f7a36a2c0a3a5d81220bcb6');
    assert.equal(r.uid, `test.jaffle_shop.${r.name}.f7a3fc67ca`);
  });
  it('explicit name replaces both names', () => {
    const spec = parseTestEntry({ unique: { name: 'orders_pk' } }, at);
    assert.deepEqual(genericTestNames(spec, model('orders'), 'id'), { name: 'orders_pk', shortName: 'orders_pk' });
    assert.equal(genericTestNodeName(spec, model('orders'), 'id'), 'orders_pk');
  });
  it('unique_id from a given hash, and without one (singular tests)', () => {
    assert.equal(genericTestUniqueId('p', 'n', 'abcdef0123'), 'test.p.n.abcdef0123');
    assert.equal(genericTestUniqueId('p', 'assert_positive'), 'test.p.assert_positive');
  });
});

describe('test kwargs', () => {
  it('adds column_name and the model argument as dbt stores them', () => {
    const spec = parseTestEntry({ relationships: { to: "ref('customers')", field: 'id' } }, at);
    assert.deepEqual(genericTestKwargs(spec, model('orders'), 'customer_id'), {
      to: "ref('customers')",
      field: 'id',
      column_name: 'customer_id',
      model: "{{ get_where_subquery(ref('orders')) }}",
    });
    assert.equal(
      genericTestKwargs(spec, { resourceType: 'source', sourceName: 'raw', name: 'events' }).model,
      "{{ get_where_subquery(source('raw', 'events')) }}",
    );
    assert.equal(
      genericTestKwargs(spec, { resourceType: 'model', name: 'dim', version: '2' }).model,
      "{{ get_where_subquery(ref('dim', version='2')) }}",
    );
  });
  it('renders every kwarg but column_name, wrapping ref()/source() in {{ }}', () => {
    const seen: string[] = [];
    const out = renderTestKwargs(
      { to: "ref('customers')", field: 'id', column_name: "{{ not rendered }}", nested: ['{{ var("x") }}'], n: 3 },
      (t) => {
        seen.push(t);
        return `<${t}>`;
      },
    );
    assert.deepEqual(out, {
      to: "<{{ ref('customers') }}>",
      field: '<id>',
      column_name: '{{ not rendered }}',
      nested: ['<{{ var("x") }}>'],
      n: 3,
    });
    assert.equal(seen.length, 3);
  });
});

describe('Python str/repr', () => {
  it('prints like CPython 3', () => {
    assert.equal(pythonStr(true), 'True');
    assert.equal(pythonStr(null), 'None');
    assert.equal(pythonStr(0.1), '0.1');
    assert.equal(pythonStr(1e-7), '1e-07');
    assert.equal(pythonStr(1.5e-5), '1.5e-05');
    assert.equal(pythonStr(1e300), '1e+300');
    assert.equal(pythonStr(123.456), '123.456');
    assert.equal(pythonStr(['a', 1, null]), "['a', 1, None]");
    assert.equal(pythonRepr({ k: "it's" }), `{'k': "it's"}`);
    assert.equal(pythonRepr('a\\b\u0007\u00a0é'), "'a\\\\b\\x07\\xa0é'");
  });
});
