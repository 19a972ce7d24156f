/**
 * Contract SQL and the mismatch decision (pure), following dbt-adapters' assert_columns_equivalent,
 * ContractError.get_mismatches, render_column_constraint / render_model_constraint and
 * postgres__create_table_as with an enforced contract.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { quoteIdentifier, quoteLiteral } from '../adapters/quote.ts';
import {
  columnConstraintSql,
  contractMismatches,
  contractSqlProblem,
  createContractTableSql,
  emptySchemaSql,
  insertContractRowsSql,
  mismatchTable,
  modelConstraintSql,
  type ContractSpec,
} from './contract.ts';

const q = { quoteIdentifier, quoteLiteral };

const SPEC: ContractSpec = {
  columns: [
    { name: 'id', data_type: 'int', constraints: [{ type: 'not_null' }, { type: 'primary_key' }] },
    { name: 'Name', data_type: 'text', quote: true, constraints: [{ type: 'check', expression: 'length("Name") > 0' }] },
    { name: 'customer_id', data_type: 'int', constraints: [{ type: 'foreign_key', to: '"s"."customers"', to_columns: ['id'] }] },
  ],
  constraints: [{ type: 'unique', columns: ['id', 'customer_id'], name: 'uq' }],
};

test('matching columns in another order are no mismatch (dbt checks names, count and types)', () => {
  assert.deepEqual(
    contractMismatches(
      [{ name: 'a', data_type: 'INTEGER' }, { name: 'b', data_type: 'STRING' }],
      [{ name: 'b', data_type: 'STRING' }, { name: 'a', data_type: 'INTEGER' }],
    ),
    [],
  );
});

test("mismatches are dbt's rows, sorted by column name", () => {
  const rows = contractMismatches(
    [{ name: 'id', data_type: 'INTEGER' }, { name: 'label', data_type: 'STRING' }],
    [{ name: 'id', data_type: 'STRING' }, { name: 'extra', data_type: 'INTEGER' }],
  );
  assert.deepEqual(rows, [
    { column_name: 'extra', definition_type: 'INTEGER', contract_type: '', mismatch_reason: 'missing in contract' },
    { column_name: 'id', definition_type: 'STRING', contract_type: 'INTEGER', mismatch_reason: 'data type mismatch' },
    { column_name: 'label', definition_type: '', contract_type: 'STRING', mismatch_reason: 'missing in definition' },
  ]);
  assert.equal(
    mismatchTable(rows.slice(1, 2)),
    '| column_name | definition_type | contract_type | mismatch_reason    |\n| ----------- | --------------- | ------------- | ------------------ |\n| id          | STRING          | INTEGER       | data type mismatch |',
  );
});

test('constraints render as dbt-adapters renders them for Postgres', () => {
  assert.equal(columnConstraintSql({ type: 'not_null' }), 'not null');
  assert.equal(columnConstraintSql({ type: 'check', expression: 'x > 0' }), 'check (x > 0)');
  assert.equal(columnConstraintSql({ type: 'check' }), undefined);
  assert.equal(columnConstraintSql({ type: 'foreign_key', expression: 'other (id)' }), 'references other (id)');
  assert.equal(modelConstraintSql({ type: 'primary_key', columns: ['a', 'b'] }), 'primary key (a, b)');
  assert.equal(modelConstraintSql({ type: 'check', name: 'pos', expression: 'a >= 0' }), 'constraint pos check (a >= 0)');
  assert.equal(modelConstraintSql({ type: 'foreign_key', columns: ['c'], to: '"s"."t"', to_columns: ['id'] }), 'foreign key (c) references "s"."t" (id)');
});

test('create table with declared columns and constraints, then insert … select from the model', () => {
  const rel = { schema: 's', identifier: 'orders' };
  assert.equal(
    createContractTableSql(rel, SPEC, q),
    'create table "s"."orders" (\n  id int not null primary key,\n  "Name" text check (length("Name") > 0),\n  customer_id int references "s"."customers" (id),\n  constraint uq unique (id, customer_id)\n)',
  );
  assert.equal(
    insertContractRowsSql(rel, SPEC, 'select 1 as id;', q),
    'insert into "s"."orders" (id, "Name", customer_id)\nselect id, "Name", customer_id\nfrom (\nselect 1 as id\n) as model_subq',
  );
  assert.equal(emptySchemaSql(SPEC.columns, q), 'select\n  cast(null as int) as id,\n  cast(null as text) as "Name",\n  cast(null as int) as customer_id');
});

test('a data type or expression that would end the statement is refused before any SQL runs', () => {
  const bad: ContractSpec = { columns: [{ name: 'id', data_type: 'int); drop table x; --', constraints: [] }], constraints: [] };
  assert.equal(contractSqlProblem(bad, 'model s.m')?.code, 'invalid-contract-sql');
  assert.equal(contractSqlProblem(SPEC, 'model s.m'), undefined);
});
