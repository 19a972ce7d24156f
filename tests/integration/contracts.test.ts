/**
 * Issue 11, model contracts end to end on both engines, as dbt-postgres enforces them
 * (dbt-adapters' assert_columns_equivalent, table_columns_and_constraints, postgres__create_table_as):
 * a contracted table is created with the declared columns, types and constraints (checked in
 * pg_catalog), a foreign key `to: ref()` points at the referenced model's table, a view is only
 * column-checked (dbt's "not supported for view materializations" warning), a query whose columns
 * differ from the contract fails with dbt's mismatch table before anything is built, a not_null
 * violation fails the build with the database's message and keeps the previous table, an
 * incremental model keeps its constraints, and contract errors in properties stop the parse (exit 2).
 */
import { it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { describeEngines, Project, projectYml } from './harness.ts';

const SCHEMA = `version: 2
models:
  - name: customers
    config:
      materialized: table
      contract: {enforced: true}
    columns:
      - name: id
        data_type: integer
        constraints:
          - type: primary_key
      - name: name
        data_type: text
        constraints:
          - type: not_null
          - type: check
            expression: "length(name) > 0"
  - name: orders
    config:
      materialized: table
      contract: {enforced: true}
    constraints:
      - type: check
        name: amount_positive
        expression: "amount >= 0"
      - type: unique
        columns: [order_id, customer_id]
    columns:
      - name: order_id
        data_type: int
        constraints: [{type: not_null}]
      - name: customer_id
        data_type: int
        constraints:
          - type: foreign_key
            to: ref('customers')
            to_columns: [id]
      - name: amount
        data_type: numeric(10,2)
  - name: customers_view
    config:
      materialized: view
      contract: {enforced: true}
    columns:
      - name: id
        data_type: int
        constraints: [{type: not_null}]
      - name: name
        data_type: varchar
  - name: wrong
    config:
      materialized: table
      contract: {enforced: true}
    columns:
      - name: id
        data_type: int
      - name: label
        data_type: text
  - name: inc
    config:
      materialized: incremental
      on_schema_change: append_new_columns
      contract: {enforced: true}
    columns:
      - name: id
        data_type: bigint
        constraints: [{type: primary_key}]
`;

const FILES = {
  'dbt_project.yml': projectYml('contracts_it'),
  'models/schema.yml': SCHEMA,
  // Columns in another order than declared: dbt checks names, not order.
  'models/customers.sql': "select 'ann' as name, 1 as id union all select 'bob', 2\n",
  'models/orders.sql': 'select 10 as order_id, 1 as customer_id, 5.5 as amount union all select 11, 2, 0\n',
  'models/customers_view.sql': "select id, name::varchar as name from {{ ref('customers') }}\n",
  'models/wrong.sql': "select 'x' as id, 1 as extra\n",
  'models/inc.sql': '{% if is_incremental() %}select 2::bigint as id{% else %}select 1::bigint as id{% endif %}\n',
};

async function columns(p: Project, table: string) {
  return p.query<{ attname: string; type: string; notnull: boolean }>(
    `select a.attname, format_type(a.atttypid, a.atttypmod) as type, a.attnotnull as notnull
     from pg_attribute a join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = '${p.schema}' and c.relname = '${table}' and a.attnum > 0 and not a.attisdropped order by a.attnum`,
  );
}

/** Constraints other than NOT NULL (PostgreSQL 18 lists those in pg_constraint too; attnotnull covers them). */
async function constraints(p: Project, table: string) {
  const rows = await p.query<{ contype: string; def: string; conname: string }>(
    `select con.contype::text as contype, pg_get_constraintdef(con.oid) as def, con.conname
     from pg_constraint con join pg_class c on c.oid = con.conrelid join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = '${p.schema}' and c.relname = '${table}' and con.contype <> 'n' order by 1, 2`,
  );
  return rows.map((r) => `${r.contype} ${r.def}`);
}

await describeEngines('model contracts', (engine) => {
  let p: Project;
  before(async () => {
    p = await Project.create(engine, FILES);
  });
  after(async () => {
    await p?.cleanup();
  });

  it('creates a contracted table with the declared columns, types and constraints (dbt postgres__create_table_as)', async () => {
    const r = await p.cli('run', ['--select', 'customers', 'orders']);
    assert.equal(r.code, 0, r.output);
    assert.deepEqual(await columns(p, 'customers'), [
      { attname: 'id', type: 'integer', notnull: true },
      { attname: 'name', type: 'text', notnull: true },
    ]);
    assert.deepEqual(await constraints(p, 'customers'), ['c CHECK ((length(name) > 0))', 'p PRIMARY KEY (id)']);
    assert.deepEqual(await p.query(`select id, name from "${p.schema}".customers order by id`), [
      { id: 1, name: 'ann' },
      { id: 2, name: 'bob' },
    ]);
    assert.deepEqual(await columns(p, 'orders'), [
      { attname: 'order_id', type: 'integer', notnull: true },
      { attname: 'customer_id', type: 'integer', notnull: false },
      { attname: 'amount', type: 'numeric(10,2)', notnull: false },
    ]);
    const cons = await constraints(p, 'orders');
    assert.ok(cons.includes('c CHECK ((amount >= (0)::numeric))'), cons.join('\n'));
    assert.ok(cons.some((c) => /^f FOREIGN KEY \(customer_id\) REFERENCES (.*\.)?customers\(id\)$/.test(c)), cons.join('\n'));
    assert.ok(cons.includes('u UNIQUE (order_id, customer_id)'), cons.join('\n'));
    const named = await p.query<{ conname: string }>(`select conname from pg_constraint where conname = 'amount_positive'`);
    assert.equal(named.length, 1);
    assert.deepEqual(await p.query(`select order_id, amount::text as amount from "${p.schema}".orders order by 1`), [
      { order_id: 10, amount: '5.50' },
      { order_id: 11, amount: '0.00' },
    ]);
  });

  it('writes the constraints into manifest.json (foreign key to resolved, as dbt after compile) and orders the build by it', async () => {
    const m = p.json<any>('target/manifest.json');
    const orders = m.nodes['model.contracts_it.orders'];
    assert.equal(orders.contract.enforced, true);
    assert.deepEqual(orders.depends_on.nodes, ['model.contracts_it.customers']);
    assert.equal(orders.columns.customer_id.constraints[0].type, 'foreign_key');
    assert.match(orders.columns.customer_id.constraints[0].to, /customers"$/);
    assert.deepEqual(orders.constraints.map((c: any) => c.type), ['check', 'unique']);
  });

  it('checks a view against its contract and warns that views take no constraints', async () => {
    const r = await p.cli('run', ['--select', 'customers_view']);
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /Constraint types are not supported for view materializations and will be ignored/);
    assert.deepEqual(await p.query(`select count(*)::int as n from "${p.schema}".customers_view`), [{ n: 2 }]);
  });

  it("fails a model whose columns differ from its contract with dbt's mismatch table, building nothing", async () => {
    const r = await p.cli('run', ['--select', 'wrong']);
    assert.equal(r.code, 1, r.output);
    assert.match(r.output, /This model has an enforced contract that failed\./);
    assert.match(r.output, /\| column_name \| definition_type \| contract_type \| mismatch_reason +\|/);
    assert.match(r.output, /\| extra +\| INTEGER +\| +\| missing in contract +\|/);
    assert.match(r.output, /\| id +\| STRING +\| INTEGER +\| data type mismatch +\|/);
    assert.match(r.output, /\| label +\| +\| STRING +\| missing in definition +\|/);
    assert.equal((await columns(p, 'wrong')).length, 0, 'no table was created');
  });

  it('fails on a not_null violation with the database message and keeps the previous table', async () => {
    p.write({ 'models/customers.sql': "select 'ann' as name, 1 as id union all select null, 3\n" });
    const r = await p.cli('run', ['--select', 'customers']);
    assert.equal(r.code, 1, r.output);
    assert.match(r.output, /null value in column "name"[^\n]*violates not-null constraint/);
    assert.deepEqual(await p.query(`select id from "${p.schema}".customers order by id`), [{ id: 1 }, { id: 2 }]);
    p.write({ 'models/customers.sql': FILES['models/customers.sql'] });
  });

  it('builds an incremental model with its contract, keeping its primary key across runs', async () => {
    let r = await p.cli('run', ['--select', 'inc']);
    assert.equal(r.code, 0, r.output);
    r = await p.cli('run', ['--select', 'inc']);
    assert.equal(r.code, 0, r.output);
    assert.deepEqual(await p.query(`select id::int as id from "${p.schema}".inc order by id`), [{ id: 1 }, { id: 2 }]);
    assert.deepEqual(await constraints(p, 'inc'), ['p PRIMARY KEY (id)']);
  });

  it('refuses contract errors in properties at parse, naming file and line (exit 2)', async () => {
    p.write({
      'models/bad.sql': "{{ config(materialized='incremental', contract={'enforced': true}) }}\nselect 1 as id\n",
      'models/bad.yml': 'version: 2\nmodels:\n  - name: bad\n    columns:\n      - name: id\n        constraints: [{type: primary_key}, {type: nonsense}]\n',
    });
    const r = await p.cli('compile');
    assert.equal(r.code, 2, r.output);
    assert.match(r.output, /models\/bad\.yml:5[^\n]*Contracted models require data_type to be defined for each column[^\n]*\['id'\]/);
    assert.match(r.output, /Invalid constraint type on column 'id' of model 'bad'/);
    assert.match(r.output, /Invalid value for on_schema_change: ignore\. Models materialized as incremental with contracts enabled must set on_schema_change to 'append_new_columns' or 'fail'/);
    p.write({ 'models/bad.sql': null, 'models/bad.yml': null });
  });

  it('refuses a foreign key to a model that does not exist, naming the properties file', async () => {
    p.write({
      'models/fk.sql': '{{ config(materialized="table") }}\nselect 1 as id\n',
      'models/fk.yml': "version: 2\nmodels:\n  - name: fk\n    config:\n      contract: {enforced: true}\n    columns:\n      - name: id\n        data_type: int\n        constraints:\n          - type: foreign_key\n            to: ref('nope')\n            to_columns: [id]\n",
    });
    const r = await p.cli('compile');
    assert.equal(r.code, 2, r.output);
    assert.match(r.output, /models\/fk\.yml:3[^\n]*model 'fk' has a foreign key constraint to 'ref\('nope'\)', which does not exist/);
    p.write({ 'models/fk.sql': null, 'models/fk.yml': null });
  });
});
