/**
 * A backend killed mid-model (pg_terminate_backend from another session):
 * that model fails with a clear message, its previous table stays, its
 * downstream nodes are skipped, an independent branch finishes, and
 * run_results.json records it. With `retries: 1` the model is run again on a
 * new connection and the build succeeds.
 */
import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { postgresSkipReason } from '../../src/adapters/testing.ts';
import { FaultProject, until } from './harness.ts';

const FILES = {
  'models/base.sql': "{{ config(materialized='table') }}\nselect 1 as id",
  'models/slow.sql':
    "{{ config(materialized='table') }}\nselect id, pg_sleep({{ var('sleep', 0) }}) is not null as slept, {{ var('version', 1) }} as version from {{ ref('base') }}",
  'models/after_slow.sql': 'select * from {{ ref("slow") }}',
  'models/independent.sql': "{{ config(materialized='table') }}\nselect pg_sleep({{ var('indep_sleep', 0) }}) is not null as slept, {{ var('version', 1) }} as version",
  'models/indep_child.sql': "{{ config(materialized='table') }}\nselect * from {{ ref('independent') }}",
};

const skip = await postgresSkipReason();

describe('backend killed mid-model (postgres)', { skip }, () => {
  let p: FaultProject;
  // Every case ends with the secrets grep: no output or artifact holds the password or a DBT_ENV_SECRET_ value.
  afterEach(async () => {
    await p?.assertNoLeaks();
  });
  before(async () => {
    p = await FaultProject.create(FILES, { profile: { retries: 0, threads: 3 } });
    const first = await p.cli('build');
    assert.equal(first.code, 0, first.output);
  });
  after(async () => {
    await p?.cleanup();
  });

  it('fails that model clearly, keeps its table, skips downstream, finishes the other branch', async () => {
    const run = p.start('build', ['--vars', '{sleep: 6, indep_sleep: 1, version: 2}']);
    const [pid] = await until('the slow model to be building', async () => {
      const pids = await p.backendsRunning('%slow__tsdbt_tmp%');
      return pids.length ? pids : null;
    });
    const killed = await p.rows<{ ok: boolean }>('select pg_terminate_backend($1) as ok', [pid]);
    assert.equal(killed[0].ok, true);
    const r = await run.done;

    assert.equal(r.code, 1, r.output);
    assert.match(r.stderr, /Lost the connection to the database in model slow \(models\/slow\.sql\): terminating connection due to administrator command\. Nothing was changed: the previous relation is intact\./);
    assert.match(r.stderr, /hint: .*tsdbt retry/);
    // The previous table is intact; nothing half-built is left.
    assert.deepEqual(await p.rows(`select version from ${p.schema}.slow`), [{ version: 1 }]);
    assert.deepEqual(await p.relations(), ['after_slow', 'base', 'indep_child', 'independent', 'slow']);
    // The other branch finished with the new version.
    assert.deepEqual(await p.rows(`select version from ${p.schema}.indep_child`), [{ version: 2 }]);

    const results = p.json('target/run_results.json').results as { unique_id: string; status: string; message: string }[];
    const by = Object.fromEntries(results.map((x) => [x.unique_id.split('.').pop(), x]));
    assert.equal(by.slow.status, 'error');
    assert.match(by.slow.message, /terminating connection due to administrator command/);
    assert.equal(by.after_slow.status, 'skipped');
    assert.equal(by.independent.status, 'success');
    assert.equal(by.indep_child.status, 'success');
    assert.equal(by.base.status, 'success');

    // A retry rebuilds exactly what failed or was skipped.
    const retry = await p.cli('retry');
    assert.equal(retry.code, 0, retry.output);
    assert.match(retry.stdout, /Retrying 2 nodes/);
    assert.deepEqual(await p.rows(`select version from ${p.schema}.slow`), [{ version: 1 }]); // retry uses no --vars
  });

  it('with retries: 1 runs the model again on a new connection and succeeds', async () => {
    p.writeProfile({ retries: 1, threads: 3 });
    const run = p.start('run', ['--select', 'slow', '--vars', '{sleep: 2, version: 3}']);
    const [pid] = await until('the slow model to be building', async () => {
      const pids = await p.backendsRunning('%slow__tsdbt_tmp%');
      return pids.length ? pids : null;
    });
    await p.rows('select pg_terminate_backend($1)', [pid]);
    const r = await run.done;
    assert.equal(r.code, 0, r.output);
    assert.match(r.stderr, /Warning in model slow .*lost the connection to the database \(terminating connection due to administrator command\); running it again on a new connection in 1\.0 s \(retry 1 of 1\)/);
    assert.deepEqual(await p.rows(`select version from ${p.schema}.slow`), [{ version: 3 }]);
    assert.deepEqual(await p.relations(), ['after_slow', 'base', 'indep_child', 'independent', 'slow']);
  });
});
