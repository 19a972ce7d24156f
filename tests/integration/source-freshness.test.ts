/**
 * `tsdbt source freshness`, end to end on both engines, as dbt's FreshnessTask:
 * `max(loaded_at_field)` against now(), `warn_after` / `error_after`, `filter`,
 * source-level freshness and loaded_at_field inherited by tables (`freshness: null`
 * switches a table off), naive timestamps read as UTC, target/sources.json in dbt's
 * sources v3 shape, exit 1 for a stale table or a runtime error, `--select`, `-o`.
 */
import { it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { describeEngines, Project, projectYml, type Files } from './harness.ts';
import { sourceFreshness } from '../../src/index.ts';

const FILES: Files = {
  'dbt_project.yml': projectYml('fresh'),
  'models/sources.yml': `version: 2
sources:
  - name: shop
    schema: "{{ target.schema }}"
    loaded_at_field: updated_at
    freshness:
      error_after: {count: 1, period: day}
    tables:
      - name: orders
        loaded_at_field: loaded_at
        freshness:
          warn_after: {count: 30, period: minute}
          error_after: {count: 2, period: hour}
      - name: customers
      - name: events
        freshness: null
      - name: payments
        freshness:
          filter: "kind = 'recent'"
      - name: refunds
        loaded_at_field: null_at
  - name: other
    schema: "{{ target.schema }}"
    freshness:
      warn_after: {count: 1, period: hour}
    tables:
      - name: no_field
`,
  'models/m.sql': "select 1 as id\n",
  'models/from_orders.sql': "select loaded_at from {{ source('shop', 'orders') }}\n",
  'models/from_customers.sql': "select updated_at from {{ source('shop', 'customers') }}\n",
};

type Result = { unique_id: string; status: string; max_loaded_at_time_ago_in_s?: number; error?: string; criteria?: unknown; max_loaded_at?: string; snapshotted_at?: string };

await describeEngines('source freshness', (engine) => {
  let p: Project;
  before(async () => {
    p = await Project.create(engine, FILES);
    await p.query(
      `create schema if not exists "${p.schema}"`,
      // a naive timestamp one hour ago in UTC: dbt reads naive timestamps as UTC
      `create table "${p.schema}".orders as select (now() at time zone 'utc') - interval '1 hour' as loaded_at`,
      `create table "${p.schema}".customers as select now() - interval '3 days' as updated_at`,
      `create table "${p.schema}".events as select now() - interval '300 days' as updated_at`,
      `create table "${p.schema}".payments as select * from (values (now() - interval '5 days', 'old'), (now() - interval '2 days', 'recent')) v(updated_at, kind)`,
      `create table "${p.schema}".refunds (null_at timestamptz)`,
      `create table "${p.schema}".no_field as select 1 as id`,
    );
  });
  after(async () => {
    await p?.cleanup();
  });

  it('checks every table with a threshold, writes target/sources.json (v3) and exits 1 on a stale table', async () => {
    const r = await p.cli('source freshness');
    assert.equal(r.code, 1, r.output);
    assert.match(r.stdout, /WARN freshness of shop\.orders/);
    assert.match(r.stdout, /ERROR STALE freshness of shop\.customers/);
    assert.doesNotMatch(r.stdout, /shop\.events/);
    const j = p.json('target/sources.json');
    assert.equal(j.metadata.dbt_schema_version, 'https://schemas.getdbt.com/dbt/sources/v3.json');
    assert.equal(typeof j.elapsed_time, 'number');
    const by = Object.fromEntries((j.results as Result[]).map((x) => [x.unique_id.split('.').slice(2).join('.'), x]));
    assert.deepEqual(Object.keys(by).sort(), ['other.no_field', 'shop.customers', 'shop.orders', 'shop.payments', 'shop.refunds']);
    // orders: its own loaded_at_field and thresholds; the naive timestamp is read as UTC (about 3600 s old)
    assert.equal(by['shop.orders'].status, 'warn');
    const age = by['shop.orders'].max_loaded_at_time_ago_in_s!;
    assert.ok(age > 3500 && age < 3800, `age ${age}`);
    assert.deepEqual(by['shop.orders'].criteria, { warn_after: { count: 30, period: 'minute' }, error_after: { count: 2, period: 'hour' }, filter: null });
    assert.match(by['shop.orders'].max_loaded_at!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$/);
    // customers: the source's loaded_at_field and error_after
    assert.equal(by['shop.customers'].status, 'error');
    assert.deepEqual(by['shop.customers'].criteria, { warn_after: { count: null, period: null }, error_after: { count: 1, period: 'day' }, filter: null });
    // payments: the filter keeps the 2-day-old row only, still past the inherited 1 day
    assert.equal(by['shop.payments'].status, 'error');
    assert.ok(by['shop.payments'].max_loaded_at_time_ago_in_s! < 3 * 86400 && by['shop.payments'].max_loaded_at_time_ago_in_s! > 86400);
    // refunds: no rows → runtime error with the reason; no_field: no loaded_at_field on Postgres
    assert.equal(by['shop.refunds'].status, 'runtime error');
    assert.match(by['shop.refunds'].error!, /received value 'null'/);
    assert.equal(by['other.no_field'].status, 'runtime error');
    assert.match(by['other.no_field'].error!, /no 'loaded_at_field' provided and postgres adapter does not support metadata-based freshness checks/);
    assert.match(r.stderr, /Runtime Error in source other\.no_field \(models\/sources\.yml\)/);
  });

  it('--select narrows the check; warnings alone exit 0; -o writes elsewhere', async () => {
    const r = await p.cli('source freshness', ['--select', 'source:shop.orders', '-o', `${p.dir}/out/fresh.json`]);
    assert.equal(r.code, 0, r.output);
    const j = p.json('out/fresh.json');
    assert.deepEqual((j.results as Result[]).map((x) => [x.unique_id, x.status]), [['source.fresh.shop.orders', 'warn']]);
  });

  it('a table that became fresh passes', async () => {
    await p.query(`insert into "${p.schema}".customers values (now())`);
    const r = await p.cli('source freshness', ['--select', 'source:shop.customers']);
    assert.equal(r.code, 0, r.output);
    assert.match(r.stdout, /PASS freshness of shop\.customers/);
    assert.equal(p.json('target/sources.json').results[0].status, 'pass');
  });

  it('the programmatic API sourceFreshness() gives the same report', async () => {
    const r = await sourceFreshness({ projectDir: p.dir, profilesDir: p.dir, select: ['source:shop.orders'] });
    assert.equal(r.exitCode, 0);
    assert.deepEqual(r.sources.results.map((x) => x.status), ['warn']);
  });

  it('source_status:fresher+ selects what is downstream of the sources loaded since the --state check', async () => {
    const a = await p.cli('source freshness', ['--select', 'source:shop.orders', 'source:shop.customers']);
    assert.ok(a.code === 0 || a.code === 1, a.output);
    cpSync(join(p.dir, 'target'), join(p.dir, 'state'), { recursive: true });
    await p.query(`insert into "${p.schema}".orders values (now() at time zone 'utc')`);
    const b = await p.cli('source freshness', ['--select', 'source:shop.orders', 'source:shop.customers']);
    assert.ok(b.code === 0 || b.code === 1, b.output);
    const r = await p.cli('ls', ['--select', 'source_status:fresher+', '--state', 'state', '--output', 'name', '--resource-type', 'model']);
    assert.equal(r.code, 0, r.output);
    assert.deepEqual(r.stdout.trim().split('\n'), ['from_orders']);
  });

  it('runs the on-run hooks around the checks; on-run-end sees the freshness results', async () => {
    p.write({
      'dbt_project.yml': projectYml(
        'fresh',
        `on-run-start: "create table {{ target.schema }}.fresh_start as select 1 as x"
on-run-end: "create table {{ target.schema }}.fresh_log as select {{ results | length }} as n, '{{ results[0].status }}' as s, '{{ results[0].node.name }}' as t"
`,
      ),
    });
    const r = await p.cli('source freshness', ['--select', 'source:shop.orders']);
    assert.equal(r.code, 0, r.output);
    assert.deepEqual(await p.rows('select x from fresh_start'), [{ x: 1 }]);
    // orders got a fresh row in the test above
    assert.deepEqual(await p.rows('select n, s, t from fresh_log'), [{ n: 1, s: 'pass', t: 'orders' }]);
  });

  it('a bad period is a project error naming the file (exit 2)', async () => {
    p.write({ 'models/sources.yml': (p.read('models/sources.yml') ?? '').replace('period: minute', 'period: fortnight') });
    const r = await p.cli('source freshness');
    assert.equal(r.code, 2, r.output);
    assert.match(r.stderr, /models\/sources\.yml.*freshness warn_after\.period must be minute, hour or day, got "fortnight"/);
  });
});
