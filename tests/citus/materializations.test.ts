/**
 * Every materialization with `dist` on the Citus cluster (README, "Scaling out with Citus"): tables, seeds,
 * incremental strategies against an existing distributed table, full refresh, views, ephemerals, snapshots,
 * data tests and store_failures over distributed and reference tables, grants, indexes and persist_docs.
 * dbt has no Citus adapter; the configs follow dbt-redshift's `dist` and Citus's create_distributed_table options.
 * Needs the local cluster (../shared/citus/citus-cluster.sh start); skipped without it unless TSDBT_REQUIRE_CITUS=1.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CitusProject, COORDINATOR, citusSkipReason, citusTables, sql } from './cluster.ts';

const skip = await citusSkipReason();
const ROLE = `citus_reader_${process.pid}`;

const FILES: Record<string, string> = {
  'dbt_project.yml': "name: citus_mat\nversion: '1.0.0'\nconfig-version: 2\nprofile: citus_mat\nsnapshot-paths: ['snapshots']\n",
  'seeds/events_raw.csv': 'event_id,user_id,amount\n1,10,5\n2,11,7\n3,10,1\n4,12,9\n',
  'seeds/_seeds.yml': 'version: 2\nseeds:\n  - name: events_raw\n    config: {dist: user_id, shard_count: 4}\n',
  'models/dim_users.sql': "{{ config(materialized='table', dist='reference') }}\nselect distinct user_id, 'u' || user_id as name from {{ ref('events_raw') }}\n",
  'models/fact_events.sql':
    "{{ config(materialized='table', dist='user_id', indexes=[{'columns': ['user_id']}], grants={'select': [var('reader')]}, persist_docs={'relation': true, 'columns': true}) }}\n" +
    "select e.event_id, e.user_id, e.amount * {{ var('factor', 1) }} as amount, d.name from {{ ref('events_raw') }} e join {{ ref('dim_users') }} d using (user_id)\n",
  'models/fact_colocated.sql': "{{ config(materialized='table', dist='user_id', colocate_with='fact_events') }}\nselect user_id, sum(amount) as total from {{ ref('fact_events') }} group by user_id\n",
  'models/fact_alone.sql': "{{ config(materialized='table', dist='event_id', colocate_with='none', shard_count=2) }}\nselect event_id, user_id from {{ ref('fact_events') }}\n",
  'models/eph.sql': "{{ config(materialized='ephemeral') }}\nselect user_id, count(*) as n from {{ ref('fact_events') }} group by user_id\n",
  'models/v_users.sql': "{{ config(materialized='view') }}\nselect d.user_id, d.name, coalesce(e.n, 0) as n from {{ ref('dim_users') }} d left join {{ ref('eph') }} e using (user_id)\n",
  'models/local_summary.sql': "{{ config(materialized='table') }}\nselect count(*) as users, sum(n) as events from {{ ref('v_users') }}\n",
  'models/inc_append.sql': "{{ config(materialized='incremental', dist='user_id') }}\nselect event_id, user_id, amount from {{ ref('fact_events') }}\n{% if is_incremental() %}where event_id > (select max(event_id) from {{ this }}){% endif %}\n",
  'models/inc_di.sql': "{{ config(materialized='incremental', dist='user_id', unique_key='event_id') }}\nselect event_id, user_id, amount from {{ ref('fact_events') }}\n",
  'models/inc_merge.sql': "{{ config(materialized='incremental', dist='user_id', incremental_strategy='merge', unique_key=['event_id', 'user_id']) }}\nselect event_id, user_id, amount from {{ ref('fact_events') }}\n",
  'models/inc_ref.sql': "{{ config(materialized='incremental', dist='reference', unique_key='user_id') }}\nselect user_id, count(*) as n from {{ ref('fact_events') }} group by user_id\n",
  'models/_models.yml':
    'version: 2\nmodels:\n  - name: fact_events\n    description: Events, distributed by user.\n    columns:\n      - name: event_id\n        description: The event.\n        data_tests: [unique, not_null]\n      - name: user_id\n        description: The user.\n        data_tests:\n          - relationships:\n              arguments: {to: "ref(\'dim_users\')", field: user_id}\n      - name: amount\n        data_tests:\n          - accepted_values:\n              arguments: {values: [5, 7, 1, 9]}\n              config: {severity: warn, store_failures: true}\n',
  'snapshots/events_snap.sql':
    "{% snapshot events_snap %}\n{{ config(target_schema=target.schema, unique_key='event_id', strategy='check', check_cols=['amount']) }}\nselect event_id, user_id, amount from {{ ref('fact_events') }}\n{% endsnapshot %}\n",
};

describe('materializations with dist on a Citus cluster', { skip }, () => {
  let p: CitusProject;
  before(async () => {
    p = CitusProject.create({ files: FILES, profile: 'citus_mat' });
    // Citus propagates CREATE ROLE from the coordinator to the workers.
    await sql(COORDINATOR, `do $$ begin if not exists (select 1 from pg_roles where rolname = '${ROLE}') then create role ${ROLE}; end if; end $$`);
  });
  after(async () => {
    await p?.cleanup([COORDINATOR]);
    await sql(COORDINATOR, `drop role if exists ${ROLE}`).catch(() => undefined);
  });
  const vars = (extra = '') => ['--vars', `{reader: ${ROLE}${extra}}`];
  const q = (rel: string) => `"${p.schema}".${rel}`;

  it('builds seeds, tables, views, ephemerals, incrementals, snapshots and tests; tables distributed as configured', async () => {
    const r = await p.cli('build', vars());
    assert.equal(r.code, 0, r.output);
    assert.match(r.stdout, /with Citus \d/);
    const ct = await citusTables(COORDINATOR, p.schema);
    const at = (t: string) => ct[`${p.schema}.${t}`];
    assert.deepEqual([at('events_raw')?.type, at('events_raw')?.column], ['distributed', 'user_id'], 'the seed is distributed (COPY routed to shards)');
    assert.equal(at('dim_users')?.type, 'reference');
    assert.equal(at('inc_ref')?.type, 'reference');
    for (const t of ['fact_events', 'fact_colocated', 'inc_append', 'inc_di', 'inc_merge']) assert.equal(at(t)?.column, 'user_id', t);
    assert.equal(at('fact_colocated')!.colocation, at('fact_events')!.colocation, 'colocate_with: fact_events');
    assert.equal(at('fact_alone')?.column, 'event_id');
    assert.notEqual(at('fact_alone')!.colocation, at('fact_events')!.colocation, 'colocate_with: none');
    const shards = await sql<{ n: number }>(COORDINATOR, `select count(*)::int as n from pg_dist_shard where logicalrelid = $1::regclass`, [q('fact_alone')]);
    assert.equal(shards[0]!.n, 2, 'shard_count: 2');
    const seedShards = await sql<{ n: number }>(COORDINATOR, `select count(*)::int as n from pg_dist_shard where logicalrelid = $1::regclass`, [q('events_raw')]);
    assert.equal(seedShards[0]!.n, 4, 'the seed has shard_count: 4');
    assert.equal(at('local_summary'), undefined, 'no dist: a local table');
    assert.equal(at('events_snap'), undefined, 'the snapshot table is local');
    assert.deepEqual(await sql(COORDINATOR, `select users::int, events::int from ${q('local_summary')}`), [{ users: 3, events: 4 }]);
    assert.deepEqual(await sql(COORDINATOR, `select count(*)::int as n from ${q('events_snap')}`), [{ n: 4 }]);
    assert.deepEqual(await sql(COORDINATOR, `select sum(total)::int as s from ${q('fact_colocated')}`), [{ s: 22 }]);
    // The run's tests passed (unique, not_null, relationships over distributed + reference tables).
    assert.match(r.stdout, /PASS=\d+/);
    assert.doesNotMatch(r.stdout, /ERROR=[1-9]/);
  });

  it('grants and indexes reach every shard; persist_docs comments the coordinator table', async () => {
    const rel = q('fact_events');
    const grants = await sql<{ result: string }>(COORDINATOR, `select result from run_command_on_shards($1, $$select has_table_privilege('${ROLE}', '%s', 'select')$$)`, [rel]);
    assert.ok(grants.length > 0 && grants.every((g) => g.result === 't'), `select granted on every shard: ${JSON.stringify(grants)}`);
    const idx = await sql<{ result: string }>(COORDINATOR, `select result from run_command_on_shards($1, $$select count(*) from pg_index where indrelid = '%s'::regclass$$)`, [rel]);
    assert.ok(idx.every((i) => i.result === '1'), `the index is on every shard: ${JSON.stringify(idx)}`);
    const comment = await sql<{ c: string; col: string }>(COORDINATOR, `select obj_description($1::regclass, 'pg_class') as c, col_description($1::regclass, 2) as col`, [rel]);
    assert.deepEqual(comment, [{ c: 'Events, distributed by user.', col: 'The user.' }]);
  });

  it('a rebuild swaps in a new distributed table in the same colocation group; incrementals keep theirs', async () => {
    const before = await citusTables(COORDINATOR, p.schema);
    const oid = await sql<{ o: string }>(COORDINATOR, `select $1::regclass::oid::text as o`, [q('fact_events')]);
    p.append('seeds/events_raw.csv', '5,13,2\n');
    const r = await p.cli('build', [...vars(), '--exclude', 'resource_type:test']);
    assert.equal(r.code, 0, r.output);
    const after = await citusTables(COORDINATOR, p.schema);
    const at = (m: typeof after, t: string) => m[`${p.schema}.${t}`]!;
    assert.notEqual((await sql<{ o: string }>(COORDINATOR, `select $1::regclass::oid::text as o`, [q('fact_events')]))[0]!.o, oid[0]!.o, 'a new table was swapped in');
    assert.equal(at(after, 'fact_events').colocation, at(after, 'fact_colocated').colocation);
    assert.equal(at(after, 'fact_events').colocation, at(before, 'fact_events').colocation);
    for (const t of ['inc_append', 'inc_di', 'inc_merge']) {
      assert.equal(at(after, t).colocation, at(before, t).colocation, `${t} kept its table`);
      assert.deepEqual(await sql(COORDINATOR, `select count(*)::int as n, count(distinct event_id)::int as d from ${q(t)}`), [{ n: 5, d: 5 }], t);
    }
    // delete+insert into a reference table (its rows staged in a reference table): user 13 added, none doubled.
    assert.equal(at(after, 'inc_ref').colocation, at(before, 'inc_ref').colocation);
    assert.deepEqual(await sql(COORDINATOR, `select count(*)::int as n, sum(n)::int as s from ${q('inc_ref')}`), [{ n: 4, s: 5 }]);
    assert.deepEqual(Object.keys(after).filter((t) => /__tsdbt_/.test(t)), [], 'no helper relation left');
  });

  it('delete+insert and merge update rows in place on the distributed table', async () => {
    const r = await p.cli('run', [...vars(', factor: 10'), '--select', 'fact_events', 'inc_di', 'inc_merge']);
    assert.equal(r.code, 0, r.output);
    for (const t of ['inc_di', 'inc_merge']) {
      assert.deepEqual(await sql(COORDINATOR, `select count(*)::int as n, sum(amount)::int as s from ${q(t)}`), [{ n: 5, s: 240 }], t);
    }
  });

  it('a failing rebuild leaves the previous distributed table intact', async () => {
    const r = await p.cli('run', ['--vars', `{reader: ${ROLE}, factor: '1/0'}`, '--select', 'fact_events']);
    assert.equal(r.code, 1, r.output);
    assert.match(r.output, /division by zero/);
    assert.deepEqual(await sql(COORDINATOR, `select sum(amount)::int as s from ${q('fact_events')}`), [{ s: 240 }]);
    assert.equal((await citusTables(COORDINATOR, p.schema))[`${p.schema}.fact_events`]?.type, 'distributed');
    assert.deepEqual(Object.keys(await citusTables(COORDINATOR, p.schema)).filter((t) => /__tsdbt_/.test(t)), []);
  });

  it('merge whose unique_key leaves out the distribution column: a clear error naming the rule, table unchanged', async () => {
    p.write({ 'models/inc_merge.sql': "{{ config(materialized='incremental', dist='user_id', incremental_strategy='merge', unique_key='event_id') }}\nselect event_id, user_id, amount from {{ ref('fact_events') }}\n" });
    const r = await p.cli('run', [...vars(', factor: 10'), '--select', 'inc_merge']);
    assert.equal(r.code, 1, r.output);
    assert.match(r.output, /the merge strategy on a table distributed by user_id needs user_id in its unique_key \(Citus's rule: a MERGE into a distributed table must join on the target's distribution column\)/);
    assert.deepEqual(await sql(COORDINATOR, `select count(*)::int as n from ${q('inc_merge')}`), [{ n: 5 }]);
  });

  it('merge into a reference table: a clear error naming the rule', async () => {
    p.write({ 'models/inc_ref.sql': "{{ config(materialized='incremental', dist='reference', unique_key='user_id', incremental_strategy='merge') }}\nselect user_id, count(*) as n from {{ ref('fact_events') }} group by user_id\n" });
    const r = await p.cli('run', [...vars(), '--select', 'inc_ref']);
    assert.equal(r.code, 1, r.output);
    assert.match(r.output, /the merge strategy cannot write a reference table \(Citus's rule: a reference table is not allowed as the target of MERGE\)/);
    assert.match(r.output, /incremental_strategy: delete\+insert/);
  });

  it('a changed dist is a warning on an incremental run; --full-refresh rebuilds with the new distribution', async () => {
    p.write({ 'models/inc_di.sql': "{{ config(materialized='incremental', dist='event_id', unique_key='event_id') }}\nselect event_id, user_id, amount from {{ ref('fact_events') }}\n" });
    const r = await p.cli('run', [...vars(', factor: 10'), '--select', 'inc_di']);
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /is distributed by user_id but its config asks for distributed by event_id: an incremental run keeps the table as it is\. Run with --full-refresh/);
    const fr = await p.cli('run', [...vars(', factor: 10'), '--select', 'inc_di', '--full-refresh']);
    assert.equal(fr.code, 0, fr.output);
    assert.equal((await citusTables(COORDINATOR, p.schema))[`${p.schema}.inc_di`]?.column, 'event_id');
    assert.deepEqual(await sql(COORDINATOR, `select count(*)::int as n from ${q('inc_di')}`), [{ n: 5 }]);
  });

  it('a dist column the model does not produce fails the model, naming it and its columns', async () => {
    p.write({ 'models/bad_dist.sql': "{{ config(materialized='table', dist='customer_id') }}\nselect 1 as id, 2 as user_id\n" });
    const r = await p.cli('run', [...vars(), '--select', 'bad_dist']);
    assert.equal(r.code, 1, r.output);
    assert.match(r.output, /sets dist: customer_id, but the model has no column 'customer_id' \(it has id, user_id\)/);
    assert.equal((await sql(COORDINATOR, `select to_regclass($1) as r`, [q('bad_dist')]))[0]!.r, null);
  });

  it('store_failures keeps failing rows of a test over a distributed table', async () => {
    const r = await p.cli('test', [...vars(), '--select', 'fact_events', '--store-failures']);
    assert.ok(r.code === 0 || r.code === 1, r.output);
    const audit = await sql<{ n: number }>(
      COORDINATOR,
      `select count(*)::int as n from information_schema.tables where table_schema = $1 and table_name like 'accepted_values%'`,
      [`${p.schema}_dbt_test__audit`],
    );
    assert.equal(audit[0]!.n, 1, r.output);
  });
});
