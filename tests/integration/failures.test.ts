/**
 * Issue 2, what a user sees when things go wrong, on both engines: a model with an
 * SQL error (database message + file, previous table intact, downstream SKIPPED,
 * independent branch built, exit 1); a hand-made view on a tsdbt table survives its
 * rebuild; a ragged seed row fails with file and line and keeps the old seed table.
 */
import { it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { describeEngines, Project, projectYml, type Files } from './harness.ts';

const PEOPLE = 'id,name,age\n1,Ann,31\n2,Bob,42\n3,Cy,25\n';

const FILES: Files = {
  'dbt_project.yml': projectYml('failing', 'models:\n  failing:\n    +materialized: table\n'),
  'seeds/people.csv': PEOPLE,
  'models/adults.sql': "select id, name, age from {{ ref('people') }} where age >= 18\n",
  'models/broken.sql': "select id, upper(name) as name from {{ ref('adults') }}\n",
  'models/after_broken.sql': "select count(*) as n from {{ ref('broken') }}\n",
  'models/after_after.sql': "{{ config(materialized='view') }}\nselect n from {{ ref('after_broken') }}\n",
  'models/independent.sql': "select 'v1'::text as version\n",
};

await describeEngines('failures', (engine) => {
  let p: Project;
  before(async () => {
    p = await Project.create(engine, FILES);
    const r = await p.cli('build');
    assert.equal(r.code, 0, r.output);
  });
  after(async () => {
    await p?.cleanup();
  });

  it('an SQL error: database message + model file, old table intact, downstream skipped, other branch built, exit 1', async () => {
    const before = await p.rows('select * from broken order by id');
    const afterBefore = await p.rows('select * from after_broken');
    assert.equal(before.length, 3);
    p.write({
      'models/broken.sql': "select id, upper(nme) as name from {{ ref('adults') }}\n",
      'models/independent.sql': "select 'v2'::text as version\n",
    });
    const r = await p.cli('run');
    assert.equal(r.code, 1, r.output);
    assert.match(r.output, /column "nme" does not exist/);
    assert.match(r.output, /models\/broken\.sql/);
    assert.match(r.stdout, /SKIP .*after_broken/);
    assert.match(r.stdout, /SKIP .*after_after/);
    assert.match(r.stdout, /ERROR=1 SKIP=2/);
    assert.match(r.stdout, /2 nodes were skipped because an upstream node failed/);
    assert.deepEqual(await p.rows('select * from broken order by id'), before, 'the previous table is untouched');
    assert.deepEqual(await p.rows('select * from after_broken'), afterBefore);
    assert.deepEqual(await p.rows('select version from independent'), [{ version: 'v2' }], 'the independent branch was rebuilt');
    const results = p.json('target/run_results.json');
    const status = Object.fromEntries(results.results.map((x: { unique_id: string; status: string }) => [x.unique_id.split('.').pop(), x.status]));
    assert.deepEqual(status, { adults: 'success', broken: 'error', after_broken: 'skipped', after_after: 'skipped', independent: 'success' });
    const err = results.results.find((x: { unique_id: string }) => x.unique_id === 'model.failing.broken');
    assert.match(err.message, /nme/);
    p.write({ 'models/broken.sql': FILES['models/broken.sql'] });
  });

  it('a hand-made view over a tsdbt table survives its rebuild and sees the new data', async () => {
    await p.query(`create view ${p.schema}.dashboard as select count(*) as n, max(age) as oldest from ${p.schema}.adults`);
    p.write({ 'seeds/people.csv': PEOPLE + '4,Dee,77\n5,Eve,12\n' });
    let r = await p.cli('seed');
    assert.equal(r.code, 0, r.output);
    r = await p.cli('run', ['--select', 'adults']);
    assert.equal(r.code, 0, r.output);
    assert.deepEqual(await p.rows('select n::int as n, oldest from dashboard'), [{ n: 4, oldest: 77 }]);
    // A full rebuild (table → table via swap) again.
    r = await p.cli('build', ['--full-refresh']);
    assert.equal(r.code, 0, r.output);
    assert.deepEqual(await p.rows('select n::int as n, oldest from dashboard'), [{ n: 4, oldest: 77 }]);
  });

  it('a ragged seed row fails with file and line, exit non-zero, the previous seed table intact', async () => {
    const before = await p.rows('select * from people order by id');
    assert.equal(before.length, 5);
    p.write({ 'seeds/people.csv': 'id,name,age\n1,Ann,31\n2,Bob,42,extra\n3,Cy,25\n' });
    const r = await p.cli('seed');
    assert.notEqual(r.code, 0, r.output);
    assert.match(r.output, /seeds\/people\.csv/);
    assert.match(r.output, /line 3|:3\b/);
    assert.deepEqual(await p.rows('select * from people order by id'), before);
    const results = p.json('target/run_results.json');
    assert.equal(results.results[0].unique_id, 'seed.failing.people');
    assert.equal(results.results[0].status, 'error');
  });
});

// Ctrl-C in the middle of a run: run_results.json is still written, the running node is
// rolled back (cancelled on postgres; on PGlite it finishes, then the run stops), what had
// not started is skipped, exit 130; `tsdbt retry` finishes the run.
await describeEngines('interrupted run', (engine) => {
  let p: Project;
  before(async () => {
    p = await Project.create(engine, {
      'dbt_project.yml': projectYml('interrupted', 'models:\n  interrupted:\n    +materialized: table\n'),
      'models/fast.sql': 'select 1 as x\n',
      'models/slow.sql': "select x from {{ ref('fast') }}, (select pg_sleep(2)) s\n",
      'models/after_slow.sql': "select * from {{ ref('slow') }}\n",
    });
  });
  after(async () => {
    await p?.cleanup();
  });

  it('SIGINT: exit 130, run_results.json written with every node, nothing half-built; retry finishes', async () => {
    const r = await p.cli('run', [], {}, { interrupt: { when: /OK created .*fast/, delayMs: 500 } });
    assert.equal(r.code, 130, r.output);
    const status = Object.fromEntries(
      (p.json('target/run_results.json').results as { unique_id: string; status: string }[]).map((x) => [x.unique_id.split('.').pop(), x.status]),
    );
    // slow was running when Ctrl-C came (error: cancelled), or — on a very busy machine — not yet started (skipped).
    assert.deepEqual({ ...status, slow: status.slow === 'skipped' ? 'error' : status.slow }, { fast: 'success', slow: 'error', after_slow: 'skipped' });
    assert.deepEqual(await p.relations(), { fast: 'table' });
    const retry = await p.cli('retry');
    assert.equal(retry.code, 0, retry.output);
    assert.deepEqual(await p.relations(), { fast: 'table', slow: 'table', after_slow: 'table' });
  });
});
