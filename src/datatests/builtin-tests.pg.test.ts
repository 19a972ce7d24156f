// Runs the built-in generic tests, wrapTestSql and store_failures against the
// real PostgreSQL server (127.0.0.1:5432, database `test`), in a schema of its own.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import type { Adapter, Connection, RelationInfo, RelationRef } from '../adapters/adapter.ts';
import { JinjaEnv } from '../jinja/index.ts';
import { builtinMacroFiles } from '../macros/builtin-macros.ts';
import { genericTestKwargs, renderTestKwargs } from './generic-test-name.ts';
import { auditSchemaName, resolveStoreFailures, storeFailures, storeFailuresSql, storedFailuresQuery } from './store-failures.ts';
import { parseTestEntry } from './test-spec.ts';
import { failingRowsSql, testResult, testStatus, wrapTestSql, type TestResultRow } from './test-sql.ts';

const schema = `tsdbt_dt_${randomBytes(4).toString('hex')}`;
const q = (s: string) => '"' + s.replace(/"/g, '""') + '"';
const rel = (name: string) => `${q(schema)}.${q(name)}`;
let client: pg.Client;

// tsdbt's Jinja with dbt's built-in macros, as parse registers them: test_unique dispatches to default__test_unique.
const env = new JinjaEnv({ rootPackage: 'tsdbt_dt' });
for (const f of builtinMacroFiles()) env.addMacroFile(f.source, f.file, 'dbt');

interface TestConfigLike {
  where?: string;
  store_failures?: boolean | null;
  [k: string]: unknown;
}

/** A test context like the runner's: `config.get`, `flags`, `ref`, `adapter.dispatch`. */
function context(config: TestConfigLike, flags: Record<string, unknown> = {}) {
  return {
    config: { get: (k: string, d: unknown = null) => (config[k] === undefined ? d : config[k]) },
    flags,
    ref: (name: string) => rel(name),
    source: (_s: string, t: string) => rel(t),
    adapter: { dispatch: (name: string, ns: string | null = null) => env.dispatch(name, ns) },
  };
}

function callMacro(name: string, ctx: Record<string, unknown>, kwargs: Record<string, unknown>): string {
  return String(env.callMacro(name, [], kwargs, ctx));
}

/**
 * Builds a generic test's failing-rows SQL the way the runner will: parse the YAML entry,
 * build dbt's kwargs, render them (ref('x') → relation, model → where-subquery), call the macro.
 */
function compileTest(entry: unknown, model: string, column?: string, flags: Record<string, unknown> = {}) {
  const spec = parseTestEntry(entry, { file: 'models/schema.yml', line: 1 });
  const ctx = context(spec.config as TestConfigLike, flags);
  const kwargs = renderTestKwargs(genericTestKwargs(spec, { resourceType: 'model', name: model }, column), (t) =>
    env.render(t, ctx, { file: 'models/schema.yml' }),
  );
  return { spec, sql: callMacro(`test_${spec.testName}`, ctx, kwargs) };
}

async function run(entry: unknown, model: string, column?: string): Promise<{ row: TestResultRow; status: string; failures: number }> {
  const { spec, sql } = compileTest(entry, model, column);
  const res = await client.query(wrapTestSql(sql, spec.config));
  assert.equal(res.rows.length, 1);
  const row = res.rows[0] as TestResultRow;
  const outcome = testResult(row, spec.config);
  return { row, status: outcome.status, failures: outcome.failures };
}

before(async () => {
  client = new pg.Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' });
  await client.connect();
  await client.query(`create schema ${q(schema)}`);
  await client.query(`
    create table ${rel('customers')} (id int, name text);
    insert into ${rel('customers')} values (1, 'a'), (2, 'b'), (3, 'c');
    create table ${rel('orders')} (order_id int, customer_id int, status text);
    insert into ${rel('orders')} values
      (1, 1, 'placed'), (2, 2, 'shipped'), (2, 4, 'bogus'), (3, null, 'returned'),
      (null, 5, 'placed'), (5, 5, 'placed'), (6, 5, 'weird');
  `);
});

after(async () => {
  await client.query(`drop schema if exists ${q(schema)} cascade`);
  await client.query(`drop schema if exists ${q(auditSchemaName(schema))} cascade`);
  await client.end();
});

describe('built-in generic tests on PostgreSQL', () => {
  it('unique: fails on a duplicated id, passes on a unique one', async () => {
    const bad = await run('unique', 'orders', 'order_id');
    assert.deepEqual([bad.status, bad.failures], ['fail', 1]);
    const good = await run('unique', 'customers', 'id');
    assert.deepEqual([good.status, good.failures], ['pass', 0]);
  });

  it('unique on an SQL expression as column_name', async () => {
    const r = await run({ unique: { column_name: "(customer_id || '-' || status)" } }, 'orders');
    assert.deepEqual([r.status, r.failures], ['fail', 1]);
  });

  it('not_null: counts null rows; passes on a full column', async () => {
    assert.deepEqual((await run('not_null', 'orders', 'order_id')).failures, 1);
    assert.equal((await run('not_null', 'orders', 'status')).status, 'pass');
  });

  it('accepted_values: counts unexpected values; quote: false for numbers', async () => {
    const bad = await run({ accepted_values: { values: ['placed', 'shipped', 'completed', 'returned'] } }, 'orders', 'status');
    assert.deepEqual([bad.status, bad.failures], ['fail', 2]);
    const ok = await run(
      { accepted_values: { arguments: { values: ['placed', 'shipped', 'completed', 'returned', 'bogus', 'weird'] } } },
      'orders',
      'status',
    );
    assert.equal(ok.status, 'pass');
    const ints = await run({ accepted_values: { values: [1, 2, 3], quote: false } }, 'orders', 'order_id');
    assert.deepEqual([ints.status, ints.failures], ['fail', 2]); // 5 and 6; nulls are not failures
  });

  it('relationships: rows whose parent is missing, with `to` rendered from ref()', async () => {
    const r = await run({ relationships: { to: "ref('customers')", field: 'id' } }, 'orders', 'customer_id');
    assert.deepEqual([r.status, r.failures], ['fail', 4]);
    const sql = compileTest({ relationships: { to: "ref('customers')", field: 'id' } }, 'orders', 'customer_id').sql;
    assert.match(sql, new RegExp(`from ${rel('customers').replace(/[.*+?^${}()|[\]\\"]/g, '\\$&')}`));
  });

  it('where config filters the tested model through a subquery', async () => {
    const r = await run(
      { relationships: { arguments: { to: "ref('customers')", field: 'id' }, config: { where: 'order_id < 5' } } },
      'orders',
      'customer_id',
    );
    assert.deepEqual([r.status, r.failures], ['fail', 1]);
    const { sql } = compileTest({ not_null: { config: { where: 'status = \'placed\'' } } }, 'orders', 'order_id');
    assert.match(sql, /\(select \* from .* where status = 'placed'\) dbt_subquery/);
  });

  it('thresholds: warn_if / error_if / severity / limit / fail_calc', async () => {
    const rel4 = { to: "ref('customers')", field: 'id' }; // 4 failing rows
    const cases: [Record<string, unknown>, string, number][] = [
      [{ error_if: '>10', warn_if: '>=5' }, 'pass', 0],
      [{ error_if: '>10', warn_if: '>=3' }, 'warn', 4],
      [{ error_if: '>3' }, 'fail', 4],
      [{ error_if: '>=5', warn_if: '!= 0' }, 'warn', 4],
      [{ severity: 'warn', error_if: '>0' }, 'warn', 4],
      [{ severity: 'warn', warn_if: '>10' }, 'pass', 0],
      [{ limit: 2 }, 'fail', 2],
      [{ limit: 2, error_if: '>2' }, 'warn', 2],
      [{ limit: 2, error_if: '>2', warn_if: '>2' }, 'pass', 0],
    ];
    for (const [config, status, failures] of cases) {
      const r = await run({ relationships: { arguments: rel4, config } }, 'orders', 'customer_id');
      assert.deepEqual([r.status, r.failures], [status, failures], JSON.stringify(config));
    }
    const calc = await run(
      { accepted_values: { values: ['placed'], config: { fail_calc: 'sum(n_records)', error_if: '>= 4' } } },
      'orders',
      'status',
    );
    assert.deepEqual([calc.status, calc.failures], ['fail', 4]); // shipped, bogus, returned, weird: 1 record each
  });

  it('a singular test is just wrapped', async () => {
    const sql = `select * from ${rel('orders')} where order_id > 5 -- trailing comment\n;\n`;
    const res = await client.query(wrapTestSql(sql, { limit: 10 }));
    assert.equal(testStatus(res.rows[0], 'error'), 'fail');
    assert.equal(Number(res.rows[0].failures), 1);
    const rows = await client.query(failingRowsSql(`select * from ${rel('orders')} where status = 'placed'`, 2));
    assert.equal(rows.rows.length, 2);
  });
});

describe('store_failures on PostgreSQL', () => {
  const audit = auditSchemaName(schema);

  it('names the audit schema as dbt does', () => {
    assert.equal(auditSchemaName('analytics'), 'analytics_dbt_test__audit');
    assert.equal(auditSchemaName('analytics', 'qa'), 'analytics_qa');
    assert.deepEqual(resolveStoreFailures({ store_failures: true }), { store: true, as: 'table' });
    assert.deepEqual(resolveStoreFailures({}, true), { store: true, as: 'table' });
    assert.deepEqual(resolveStoreFailures({ store_failures: false }, true), { store: false });
    assert.deepEqual(resolveStoreFailures({ store_failures: false, store_failures_as: 'view' }), { store: true, as: 'view' });
    assert.deepEqual(resolveStoreFailures({ store_failures: true, store_failures_as: 'ephemeral' }), { store: false });
  });

  it('replaces the audit table with exactly the failing rows, atomically', async () => {
    await client.query(`create schema if not exists ${q(audit)}`);
    const { sql } = compileTest({ relationships: { to: "ref('customers')", field: 'id' } }, 'orders', 'customer_id');
    const target = { schema: audit, identifier: 'relationships_orders_customer_id__id__ref_customers_' };
    const exec = async (statements: readonly string[]) => {
      await client.query('begin');
      try {
        for (const s of statements) await client.query(s);
        await client.query('commit');
      } catch (e) {
        await client.query('rollback');
        throw e;
      }
    };
    const plan = { relation: `${q(audit)}.${q(target.identifier)}`, mainSql: storedFailuresQuery({ quoteIdentifier: q }, target) };
    await exec(storeFailuresSql({ quoteIdentifier: q }, target, sql));
    const stored = await client.query(`select from_field from ${plan.relation} order by 1`);
    assert.deepEqual(stored.rows.map((r) => r.from_field), [4, 5, 5, 5]);
    const counted = await client.query(wrapTestSql(plan.mainSql, {}));
    assert.equal(Number(counted.rows[0].failures), 4);

    // Fix some data and run again: the table now holds only what still fails.
    await client.query(`insert into ${rel('customers')} values (5, 'e')`);
    try {
      await exec(storeFailuresSql({ quoteIdentifier: q }, target, sql));
      const again = await client.query(`select from_field from ${plan.relation}`);
      assert.deepEqual(again.rows.map((r) => r.from_field), [4]);
      // with a limit, only that many rows are kept
      await exec(storeFailuresSql({ quoteIdentifier: q }, target, sql, { limit: 0 }));
      assert.equal((await client.query(`select count(*)::int as n from ${plan.relation}`)).rows[0].n, 0);
      // a failing statement leaves the previous table in place
      await client.query(`insert into ${plan.relation} values (42)`);
      await assert.rejects(exec(storeFailuresSql({ quoteIdentifier: q }, target, 'select nope from nowhere')));
      assert.deepEqual((await client.query(`select from_field from ${plan.relation}`)).rows, [{ from_field: 42 }]);
    } finally {
      await client.query(`delete from ${rel('customers')} where id = 5`);
    }
  });

  it('not_null stores whole rows when store_failures is on', async () => {
    const { spec, sql } = compileTest({ not_null: { config: { store_failures: true } } }, 'orders', 'order_id');
    assert.equal(spec.config.store_failures, true);
    assert.match(sql, /select \*/);
    assert.match(compileTest('not_null', 'orders', 'order_id', { STORE_FAILURES: true }).sql, /select \*/);
    assert.doesNotMatch(compileTest('not_null', 'orders', 'order_id').sql, /select \*/);
    assert.doesNotMatch(
      compileTest({ not_null: { config: { store_failures: false } } }, 'orders', 'order_id', { STORE_FAILURES: true }).sql,
      /select \*/,
    );
    const t = { schema: audit, identifier: 'not_null_orders_order_id' };
    for (const s of storeFailuresSql({ quoteIdentifier: q }, t, sql)) await client.query(s);
    const rows = await client.query(storedFailuresQuery({ quoteIdentifier: q }, t));
    assert.deepEqual(rows.rows, [{ order_id: null, customer_id: 5, status: 'placed' }]);
  });

  it('storeFailures() through an adapter: creates the schema, swaps a view for a table', async () => {
    const schema2 = `${schema}_dbt_test__audit2`;
    const connection: Connection = {
      query: async (sql, params) => {
        const r = await client.query(sql, params as unknown[]);
        return { rows: r.rows, rowCount: r.rowCount, command: r.command, fields: r.fields };
      },
      copyFromFile: async () => 0,
      transaction: async (fn) => {
        await client.query('begin');
        try {
          const out = await fn(connection);
          await client.query('commit');
          return out;
        } catch (e) {
          await client.query('rollback');
          throw e;
        }
      },
    };
    const adapter: Pick<Adapter, 'quoteIdentifier' | 'createSchema' | 'getRelation' | 'withConnection'> = {
      quoteIdentifier: q,
      createSchema: async (s) => void (await client.query(`create schema if not exists ${q(s)}`)),
      getRelation: async (r: RelationRef): Promise<RelationInfo | null> => {
        const res = await client.query(
          `select c.relkind from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = $1 and c.relname = $2`,
          [r.schema, r.identifier],
        );
        if (!res.rows.length) return null;
        return { ...r, kind: res.rows[0].relkind === 'v' ? 'view' : 'table' };
      },
      withConnection: (fn) => fn(connection),
    };
    try {
      const { sql } = compileTest({ accepted_values: { values: ['placed', 'shipped'] } }, 'orders', 'status');
      const target = { schema: schema2, identifier: 'accepted_values_orders_status__placed__shipped' };
      const asView = await storeFailures(adapter, target, sql, { as: 'view' });
      assert.equal((await adapter.getRelation(target))?.kind, 'view');
      const asTable = await storeFailures(adapter, target, sql);
      assert.equal((await adapter.getRelation(target))?.kind, 'table');
      assert.equal(asView.relation, asTable.relation);
      const rows = await client.query(`select value_field from ${asTable.relation} order by 1`);
      assert.deepEqual(rows.rows.map((r) => r.value_field), ['bogus', 'returned', 'weird']);
    } finally {
      await client.query(`drop schema if exists ${q(schema2)} cascade`);
    }
  });
});
