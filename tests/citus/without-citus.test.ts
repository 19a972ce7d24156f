/**
 * `dist` configs where there is no Citus (PGlite, the plain PostgreSQL server): the project still builds, as local
 * tables, with ONE warning per invocation; the configs are validated at parse and shown by `ls --output json`.
 * Runs on both engines (no cluster needed).
 */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { describeEngines, Project, projectYml } from '../integration/harness.ts';

const FILES = {
  'dbt_project.yml': projectYml('nocitus', "models:\n  nocitus:\n    dims:\n      +dist: reference\n"),
  'seeds/raw_users.csv': 'id,name\n1,a\n2,b\n3,c\n',
  'seeds/_seeds.yml': 'version: 2\nseeds:\n  - name: raw_users\n    config: {dist: id}\n',
  'models/dims/dim_users.sql': "{{ config(materialized='table') }}\nselect id, name from {{ ref('raw_users') }}\n",
  'models/fact_events.sql': "{{ config(materialized='table', dist='user_id', shard_count=4) }}\nselect id as event_id, id as user_id from {{ ref('raw_users') }}\n",
  'models/fact_more.sql': "{{ config(materialized='incremental', unique_key='event_id', dist='user_id', colocate_with='fact_events') }}\nselect * from {{ ref('fact_events') }}\n",
};

await describeEngines('dist without Citus', (engine) => {
  let p: Project;
  before(async () => {
    p = await Project.create(engine, FILES);
  });
  after(async () => {
    await p?.cleanup();
  });

  it('builds local tables with one warning per invocation naming the nodes', async () => {
    for (const round of ['first', 'second']) {
      const r = await p.cli('build');
      assert.equal(r.code, 0, r.output);
      const warnings = r.output.match(/has no Citus extension: they are built as local tables/g) ?? [];
      assert.equal(warnings.length, 1, `${round} build: one warning\n${r.output}`);
      assert.match(r.output, /`dist` is set on 4 nodes \(/);
      assert.doesNotMatch(r.stdout, /with Citus/, 'no Citus in the run header');
      assert.doesNotMatch(r.output, /unknown config key/, 'dist, colocate_with and shard_count are known config keys');
    }
    assert.deepEqual(await p.rows('select count(*)::int as n from fact_more'), [{ n: 3 }]);
    assert.equal(await p.count(`${p.schema}.dim_users`), 3);
  });

  it('a run without dist nodes selected gives no warning', async () => {
    const r = await p.cli('run', ['--select', 'nothing_here_or_there', '--exclude', 'fact_events']);
    assert.doesNotMatch(r.output, /Citus/);
  });

  it('ls --output json shows the dist configs; colocate_with makes the colocated model a dependency', async () => {
    const r = await p.cli('ls', ['--output', 'json', '--output-keys', 'name config.dist config.colocate_with config.shard_count depends_on', '--resource-type', 'model']);
    assert.equal(r.code, 0, r.output);
    const rows = r.stdout.trim().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
    const by = Object.fromEntries(rows.map((x) => [x.name, x]));
    assert.equal(by.dim_users['config.dist'], 'reference');
    assert.equal(by.fact_events['config.dist'], 'user_id');
    assert.equal(by.fact_events['config.shard_count'], 4);
    assert.equal(by.fact_more['config.colocate_with'], 'fact_events');
    assert.ok(by.fact_more.depends_on.nodes.includes('model.nocitus.fact_events'));
  });

  it('bad dist configs stop the parse, each named with its file (exit 2)', async () => {
    p.write({
      'models/bad_shards.sql': "{{ config(materialized='table', dist='id', shard_count=0) }}\nselect 1 as id\n",
      'models/bad_colocate.sql': "{{ config(materialized='table', dist='id', colocate_with='no_such_model') }}\nselect 1 as id\n",
      'models/bad_ref.sql': "{{ config(materialized='table', dist='reference', colocate_with='fact_events') }}\nselect 1 as id\n",
    });
    try {
      const r = await p.cli('parse');
      assert.equal(r.code, 2, r.output);
      assert.match(r.output, /models\/bad_shards\.sql.*`shard_count` must be a whole number from 1 to 64000, not 0/);
      assert.match(r.output, /models\/bad_colocate\.sql.*colocate_with: no_such_model, which is not a model of this project/);
      assert.match(r.output, /models\/bad_ref\.sql.*hash-distributed tables only/);
    } finally {
      p.write({ 'models/bad_shards.sql': null, 'models/bad_colocate.sql': null, 'models/bad_ref.sql': null });
    }
  });

  it('dist on a view is ignored with a warning naming it', async () => {
    p.write({ 'models/v_users.sql': "{{ config(materialized='view', dist='id') }}\nselect * from {{ ref('dim_users') }}\n" });
    try {
      const r = await p.cli('parse');
      assert.equal(r.code, 0, r.output);
      assert.match(r.output, /config 'dist' of model 'v_users' is ignored: only tables, incremental models and seeds are distributed/);
    } finally {
      p.write({ 'models/v_users.sql': null });
    }
  });
});
