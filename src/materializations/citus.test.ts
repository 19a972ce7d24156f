import { test } from 'node:test';
import assert from 'node:assert/strict';
import { quoteIdentifier, quoteLiteral } from '../adapters/quote.ts';
import { createEmptySql, distWithoutCitusWarning, distributeSql, insertModelRowsSql, lostCitusWorker } from './citus.ts';

const q = { quoteIdentifier, quoteLiteral };
const tmp = { schema: 'dwh', identifier: 'fact__tsdbt_tmp' };

test("distributeSql: Citus's create_distributed_table / create_reference_table with colocate_with and shard_count", () => {
  assert.equal(distributeSql(tmp, { kind: 'reference' }, q), `select pg_catalog.create_reference_table('"dwh"."fact__tsdbt_tmp"')`);
  assert.equal(distributeSql(tmp, { kind: 'hash', column: 'user_key' }, q), `select pg_catalog.create_distributed_table('"dwh"."fact__tsdbt_tmp"', 'user_key')`);
  assert.equal(
    distributeSql(tmp, { kind: 'hash', column: 'user_key', colocateWith: 'fact_sessions' }, q, { schema: 'dwh', identifier: 'fact_sessions' }),
    `select pg_catalog.create_distributed_table('"dwh"."fact__tsdbt_tmp"', 'user_key', colocate_with => '"dwh"."fact_sessions"')`,
  );
  assert.equal(
    distributeSql(tmp, { kind: 'hash', column: 'id', colocateWith: 'none', shardCount: 4 }, q),
    `select pg_catalog.create_distributed_table('"dwh"."fact__tsdbt_tmp"', 'id', colocate_with => 'none', shard_count => 4)`,
  );
  // A quote in a name cannot leave the literal.
  assert.match(distributeSql({ schema: "o'k", identifier: 't' }, { kind: 'hash', column: "a'b" }, q), /'"o''k"\."t"', 'a''b'/);
});

test('the table build on Citus: created empty (with no data), then insert … select, the model SQL kept intact', () => {
  assert.equal(createEmptySql(tmp, 'select 1 as id;\n', q), 'create table "dwh"."fact__tsdbt_tmp"\nas (\nselect 1 as id\n)\nwith no data');
  assert.equal(insertModelRowsSql(tmp, 'select 1 as id -- c', q), 'insert into "dwh"."fact__tsdbt_tmp"\n(\nselect 1 as id -- c\n)');
});

test('dist without Citus: one warning naming the nodes, none with Citus or without dist', () => {
  const nodes = [{ name: 'a', config: { dist: 'id' } }, { name: 'b', config: {} }, { name: 'c', config: { dist: 'reference' } }];
  assert.match(distWithoutCitusWarning(null, nodes, 'pglite')!, /`dist` is set on 2 nodes \(a, c\) but the embedded database \(PGlite\) has no Citus extension: they are built as local tables/);
  assert.equal(distWithoutCitusWarning({ version: '13.2-1' }, nodes, 'postgres'), undefined);
  assert.equal(distWithoutCitusWarning(null, [nodes[1]!], 'postgres'), undefined);
});

test("lostCitusWorker reads the worker out of Citus's connection error", () => {
  assert.equal(lostCitusWorker(new Error('connection to the remote node postgres@127.0.0.1:5603 failed with the following error: Connection refused')), '127.0.0.1:5603');
  assert.equal(lostCitusWorker(new Error('terminating connection due to administrator command')), undefined);
});
