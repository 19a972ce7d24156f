/**
 * statementLineage on single statements (no project): the SQL constructs one by one, against
 * two known relations `s.orders(id, customer_id, amount, status)` and `s.customers(id, name)`
 * and one whose columns nobody knows (`s.mystery`). Pure: no database.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { loadSqlParser, parseSql, statementLineage, type NodeLineage } from '../../src/sql/index.ts';

const COLS: Record<string, string[] | null> = { orders: ['id', 'customer_id', 'amount', 'status'], customers: ['id', 'name'], mystery: null };

before(() => loadSqlParser());

function lineage(sql: string): NodeLineage {
  const r = parseSql(sql);
  assert.ok(r.ok, r.ok ? '' : r.message);
  return statementLineage(r.tree.stmts![0].stmt, {
    resolve: (schema, name) => (schema === 's' && name in COLS ? name : undefined),
    columns: (id) => COLS[id] ?? null,
  });
}

/** `col: kind <- rel.col:kind, …` for each output column. */
function flat(l: NodeLineage): string[] {
  return Object.entries(l.columns).map(([c, x]) => `${c}: ${x.kind} <- ${x.upstream.map((u) => `${u.node}.${u.column}:${u.kind}`).join(', ')}`);
}

test('select * with join using lists the using column once; t.* only that side', () => {
  assert.deepEqual(Object.keys(lineage('select * from s.orders o join s.customers c using (id)').columns), ['id', 'customer_id', 'amount', 'status', 'name']);
  assert.deepEqual(Object.keys(lineage('select c.*, o.amount from s.orders o join s.customers c on c.id = o.customer_id').columns), ['id', 'name', 'amount']);
  assert.deepEqual(lineage('select c.*, o.amount from s.orders o join s.customers c on c.id = o.customer_id').filters.map((f) => `${f.node}.${f.column}`), ['customers.id', 'orders.customer_id']);
});

test('subqueries in FROM and in the select list, correlated', () => {
  const l = lineage('select x.cid, (select max(c.name) from s.customers c where c.id = x.cid) as top from (select customer_id as cid from s.orders where status = \'ok\') x');
  assert.deepEqual(flat(l), ['cid: direct <- orders.customer_id:direct', 'top: aggregated <- customers.name:aggregated']);
  assert.deepEqual(l.filters.map((f) => `${f.node}.${f.column}`), ['customers.id', 'orders.customer_id', 'orders.status']);
});

test('group by position, count(*), case, cast, window rank', () => {
  const l = lineage(
    "select status, count(*) as n, sum(case when amount > 0 then amount else 0 end)::numeric as pos, rank() over (order by status) as r from s.orders group by 1",
  );
  assert.deepEqual(flat(l), [
    'status: direct <- orders.status:direct',
    'n: aggregated <- ',
    'pos: aggregated <- orders.amount:aggregated',
    'r: derived <- orders.status:derived',
  ]);
  assert.deepEqual(l.filters.map((f) => `${f.node}.${f.column}`), ['orders.status']);
});

test('set operations (union, except), values, recursive CTE', () => {
  assert.deepEqual(flat(lineage('select id, name from s.customers union select customer_id, status from s.orders except select 1, \'x\'')), [
    'id: direct <- customers.id:direct, orders.customer_id:direct',
    'name: direct <- customers.name:direct, orders.status:direct',
  ]);
  assert.deepEqual(flat(lineage('select * from (values (1, \'a\')) as v(k, label)')), ['k: derived <- ', 'label: derived <- ']);
  const rec = lineage('with recursive t(n, who) as (select 1, name from s.customers union all select n + 1, who from t where n < 3) select * from t');
  assert.deepEqual(flat(rec), ['n: derived <- ', 'who: direct <- customers.name:direct']);
});

test('a relation whose columns are unknown: select * is incomplete, named columns still attributed', () => {
  const l = lineage('select * from s.mystery');
  assert.equal(l.complete, false);
  assert.match(l.notes.join(' '), /select \* from mystery: its columns are not known/);
  assert.deepEqual(flat(lineage('select m.a, b from s.mystery m')), ['a: direct <- mystery.a:direct', 'b: direct <- mystery.b:direct']);
  assert.match(lineage('select a from other.t').notes.join(' '), /other\.t is not a node of the project/);
});

test('a set-returning function in FROM, lateral', () => {
  assert.deepEqual(flat(lineage('select o.id, g from s.orders o cross join lateral generate_series(1, o.amount) as g')), ['id: direct <- orders.id:direct', 'g: derived <- orders.amount:derived']);
});
