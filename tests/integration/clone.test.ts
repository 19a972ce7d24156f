/**
 * `tsdbt clone --state DIR` as dbt-postgres (dbt-adapters' clone
 * materialization with can_clone_table() false; dbt-tests-adapter's
 * BaseCloneNotPossible): every selected model, seed and snapshot becomes a
 * view `select * from <state relation>` in the current target; relations that
 * already exist are no-ops unless --full-refresh; --resource-type narrows;
 * ephemeral models are not run; no --state, or the target's own folder as
 * state, is an error. Both engines.
 */
import { it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { describeEngines, Project, projectYml, type Files } from './harness.ts';

const FILES: Files = {
  'dbt_project.yml': projectYml('cloning', 'models:\n  cloning:\n    +materialized: table\n'),
  'seeds/seed.csv': 'id,name\n1,Alice\n2,Bob\n',
  'models/table_model.sql': "select * from {{ ref('seed') }}\n",
  'models/view_model.sql': "{{ config(materialized='view') }}\nselect id from {{ ref('table_model') }}\n",
  'models/ephemeral_model.sql': "{{ config(materialized='ephemeral') }}\nselect 1 as id\n",
  'snapshots/snap.sql': `{% snapshot snap %}
{{ config(unique_key='id', strategy='check', check_cols='all', target_schema=target.schema) }}
select * from {{ ref('seed') }}
{% endsnapshot %}
`,
};

await describeEngines('clone', (engine) => {
  let p: Project;
  let state: string;
  let other: string;
  const results = () => (p.json('target/run_results.json').results as { unique_id: string; status: string; message: string }[]).map((r) => [r.unique_id, r.status, r.message]).sort();
  before(async () => {
    p = await Project.create(engine, FILES);
    other = `${p.schema}_other`;
    const b = await p.cli('build');
    assert.equal(b.code, 0, b.output);
    state = join(p.dir, 'state');
    cpSync(join(p.dir, 'target'), state, { recursive: true });
    p.writeProfile({ schema: other });
  });
  after(async () => {
    await p?.cleanup();
  });

  it('without --state: an error naming the flag', async () => {
    const r = await p.cli('clone');
    assert.equal(r.code, 2, r.output);
    assert.match(r.output, /--state or --defer-state are required for deferral, but neither was provided/);
  });

  it('with the target folder itself as state: an error', async () => {
    const r = await p.cli('clone', ['--state', 'target']);
    assert.equal(r.code, 2, r.output);
    assert.match(r.output, /The state and target directories are the same: 'target'/);
  });

  it('clones the seed, the two models and the snapshot as views over the state relations (not the ephemeral)', async () => {
    const r = await p.cli('clone', ['--state', state]);
    assert.equal(r.code, 0, r.output);
    assert.deepEqual(await p.relations(other), { seed: 'view', snap: 'view', table_model: 'view', view_model: 'view' });
    assert.deepEqual(await p.rows(`select id, name from "${other}".table_model order by id`), [
      { id: 1, name: 'Alice' },
      { id: 2, name: 'Bob' },
    ]);
    assert.equal(Number((await p.rows<{ n: unknown }>(`select count(*) as n from "${other}".snap`))[0].n), 2);
    assert.deepEqual(results().map((x) => x[0]), ['model.cloning.table_model', 'model.cloning.view_model', 'seed.cloning.seed', 'snapshot.cloning.snap']);
    assert.ok(results().every((x) => x[1] === 'success' && x[2] === 'CREATE VIEW'), JSON.stringify(results()));
    // The views read the state's relations: a new row there shows through.
    await p.query(`insert into "${p.schema}".table_model values (3, 'Carol')`);
    assert.equal(Number((await p.rows<{ n: unknown }>(`select count(*) as n from "${other}".table_model`))[0].n), 3);
  });

  it('again: every relation exists, so every node is a no-op', async () => {
    const r = await p.cli('clone', ['--state', state]);
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /Relation .*table_model already exists/);
    assert.equal(results().length, 4);
    assert.ok(results().every((x) => x[2] === 'No-op'), JSON.stringify(results()));
  });

  it('an existing table is kept (no-op) unless --full-refresh, which replaces it with the view', async () => {
    await p.query(`drop view "${other}".view_model`, `drop view "${other}".table_model`, `create table "${other}".table_model as select 99 as id`);
    const keep = await p.cli('clone', ['--state', state, '--select', 'table_model']);
    assert.equal(keep.code, 0, keep.output);
    assert.deepEqual(await p.rows(`select id from "${other}".table_model`), [{ id: 99 }]);
    const full = await p.cli('clone', ['--state', state, '--select', 'table_model', '--full-refresh']);
    assert.equal(full.code, 0, full.output);
    assert.equal((await p.relations(other)).table_model, 'view');
    assert.equal(Number((await p.rows<{ n: unknown }>(`select count(*) as n from "${other}".table_model`))[0].n), 3);
  });

  it('--resource-type model: only the models (view_model is re-created, table_model a no-op)', async () => {
    const r = await p.cli('clone', ['--state', state, '--resource-type', 'model']);
    assert.equal(r.code, 0, r.output);
    assert.deepEqual(results(), [
      ['model.cloning.table_model', 'success', 'No-op'],
      ['model.cloning.view_model', 'success', 'CREATE VIEW'],
    ]);
  });

  it('a node missing from the state manifest: "No relation found in state manifest", a no-op', async () => {
    p.write({ 'models/brand_new.sql': 'select 1 as id\n' });
    const r = await p.cli('clone', ['--state', state, '--select', 'brand_new']);
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /No relation found in state manifest for model\.cloning\.brand_new/);
    assert.deepEqual(results(), [['model.cloning.brand_new', 'success', 'No-op']]);
    assert.equal((await p.relations(other)).brand_new, undefined);
  });
});
