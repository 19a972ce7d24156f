/**
 * Issue 2, incremental models end to end on both engines: re-running on unchanged
 * data changes nothing; appended seed rows arrive exactly once; append,
 * delete+insert (composite unique_key) and merge; --full-refresh; on_schema_change fail.
 */
import { it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { describeEngines, Project, projectYml, type Files } from './harness.ts';

const SEED = 'id,k1,k2,v\n1,a,x,10\n2,a,y,20\n3,b,x,30\n4,b,x,40\n';

const INC: Files = {
  'dbt_project.yml': projectYml('inc'),
  'seeds/events.csv': SEED,
  'models/inc_append.sql': `{{ config(materialized='incremental', incremental_strategy='append') }}
select id, k1, k2, v from {{ ref('events') }}
{% if is_incremental() %}where id > (select coalesce(max(id), 0) from {{ this }}){% endif %}
`,
  // One row per (k1, k2); a new event re-aggregates its key (delete+insert on the composite key).
  'models/inc_delins.sql': `{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key=['k1', 'k2']) }}
select k1, k2, sum(v)::int as total, count(*)::int as n, max(id) as last_id
from {{ ref('events') }}
{% if is_incremental() %}
where (k1, k2) in (select k1, k2 from {{ ref('events') }} where id > (select coalesce(max(last_id), 0) from {{ this }}))
{% endif %}
group by 1, 2
`,
  // Every run re-reads all events: merge updates changed values and inserts new ids.
  'models/inc_merge.sql': `{{ config(materialized='incremental', incremental_strategy='merge', unique_key='id') }}
select id, v from {{ ref('events') }}
`,
  'models/inc_osc.sql': `{{ config(materialized='incremental', on_schema_change='fail') }}
select id, v from {{ ref('events') }}
{% if is_incremental() %}where id > (select coalesce(max(id), 0) from {{ this }}){% endif %}
`,
};

const delinsExpected = `select k1, k2, sum(v)::int as total, count(*)::int as n from events group by 1, 2 order by 1, 2`;

await describeEngines('incremental', (engine) => {
  let p: Project;
  before(async () => {
    p = await Project.create(engine, INC);
  });
  after(async () => {
    await p?.cleanup();
  });

  it('first build loads everything', async () => {
    const r = await p.cli('build');
    assert.equal(r.code, 0, r.output);
    assert.equal(await p.count('inc_append'), 4);
    assert.equal(await p.count('inc_merge'), 4);
    assert.deepEqual(await p.rows('select k1, k2, total, n from inc_delins order by 1, 2'), await p.rows(delinsExpected));
  });

  it('run twice on unchanged data: incremental row counts unchanged', async () => {
    for (let i = 0; i < 2; i++) {
      const r = await p.cli('run');
      assert.equal(r.code, 0, r.output);
    }
    assert.equal(await p.count('inc_append'), 4);
    assert.equal(await p.count('inc_merge'), 4);
    assert.equal(await p.count('inc_delins'), 3);
    assert.equal(await p.count('inc_osc'), 4);
  });

  it('appended seed rows (+ one changed value): seed + run adds exactly those rows', async () => {
    // id 2 changes its value (only merge re-reads it); ids 5 and 6 are new, one for an existing key (b,x), one new key.
    p.write({ 'seeds/events.csv': SEED.replace('2,a,y,20', '2,a,y,25') + '5,b,x,50\n6,c,z,60\n' });
    let r = await p.cli('seed');
    assert.equal(r.code, 0, r.output);
    r = await p.cli('run');
    assert.equal(r.code, 0, r.output);
    assert.deepEqual(
      (await p.rows<{ id: number }>('select id from inc_append order by id')).map((x) => x.id),
      [1, 2, 3, 4, 5, 6],
    );
    // append did not re-read id 2: its old value stays.
    assert.deepEqual(await p.rows('select v from inc_append where id = 2'), [{ v: 20 }]);
    // delete+insert re-aggregated the keys with new events, (b,x) and (c,z); (a,y) had none, so it keeps 20.
    assert.deepEqual(await p.rows('select k1, k2, total, n from inc_delins order by 1, 2'), [
      { k1: 'a', k2: 'x', total: 10, n: 1 },
      { k1: 'a', k2: 'y', total: 20, n: 1 },
      { k1: 'b', k2: 'x', total: 120, n: 3 },
      { k1: 'c', k2: 'z', total: 60, n: 1 },
    ]);
    assert.deepEqual(await p.rows('select id, v from inc_merge order by id'), await p.rows('select id, v from events order by id'));
    assert.equal(await p.count('inc_osc'), 6);
  });

  it('--full-refresh rebuilds from scratch', async () => {
    await p.query("insert into inc_append values (999, 'junk', 'junk', 0)");
    let r = await p.cli('run', ['--select', 'inc_append']);
    assert.equal(r.code, 0, r.output);
    assert.equal(await p.count('inc_append'), 7, 'an incremental run keeps existing rows');
    r = await p.cli('run', ['--select', 'inc_append', '--full-refresh']);
    assert.equal(r.code, 0, r.output);
    assert.deepEqual(await p.rows('select id, v from inc_append order by id'), await p.rows('select id, v from events order by id'));
  });

  it('on_schema_change fail names the new column and leaves the table as it was', async () => {
    const before = await p.rows('select * from inc_osc order by id');
    p.write({ 'models/inc_osc.sql': INC['models/inc_osc.sql'].replace('select id, v', 'select id, v, k1 as extra_col') });
    const r = await p.cli('run', ['--select', 'inc_osc']);
    assert.equal(r.code, 1, r.output);
    assert.match(r.output, /extra_col/);
    assert.match(r.output, /inc_osc/);
    assert.deepEqual(await p.rows('select * from inc_osc order by id'), before);
    const results = p.json('target/run_results.json');
    assert.equal(results.results[0].status, 'error');
  });
});
