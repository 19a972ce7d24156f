/**
 * `query_timeout` (seconds, a model config; dbt-postgres has none): the
 * node's connection gets `statement_timeout` for the node and it is reset
 * afterwards. A model that runs longer fails naming its query_timeout; its
 * previous table stays and no temporary relation is left.
 */
import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { postgresSkipReason } from '../../src/adapters/testing.ts';
import { FaultProject } from './harness.ts';

const skip = await postgresSkipReason();

describe('query_timeout (postgres)', { skip }, () => {
  let p: FaultProject;
  // Every case ends with the secrets grep: no output or artifact holds the password or a DBT_ENV_SECRET_ value.
  afterEach(async () => {
    await p?.assertNoLeaks();
  });
  before(async () => {
    p = await FaultProject.create(
      {
        'models/slow.sql':
          "{{ config(materialized='table', query_timeout=1) }}\nselect pg_sleep({{ var('sleep', 0) }}) is not null as slept, {{ var('version', 1) }} as version",
        // No timeout of its own: sleeps longer than slow's limit on the same (single) pooled connection.
        'models/unlimited.sql': "{{ config(materialized='table') }}\nselect pg_sleep({{ var('sleep', 0) }} / 2.0) is not null as slept, {{ var('version', 1) }} as version",
        'models/child.sql': "select * from {{ ref('slow') }}",
      },
      { profile: { threads: 1 } },
    );
    const first = await p.cli('run');
    assert.equal(first.code, 0, first.output);
  });
  after(async () => {
    await p?.cleanup();
  });

  it('fails the model naming the timeout, keeps the previous table, leaves nothing half-built', async () => {
    const t0 = Date.now();
    const r = await p.cli('run', ['--vars', '{sleep: 3, version: 2}']);
    assert.equal(r.code, 1, r.output);
    assert.match(
      r.stderr,
      /Timeout in model slow \(models\/slow\.sql\): a statement ran longer than its query_timeout of 1 s and was cancelled \(canceling statement due to statement timeout\)\. Nothing was half-built: the previous relation is unchanged\./,
    );
    assert.match(r.stderr, /hint: raise query_timeout in the config of the model/);
    assert.deepEqual(await p.rows(`select version from ${p.schema}.slow`), [{ version: 1 }]);
    assert.deepEqual(await p.relations(), ['child', 'slow', 'unlimited']);
    // The timeout was reset: the model without one ran 1.5 s on the same connection and succeeded.
    assert.deepEqual(await p.rows(`select version from ${p.schema}.unlimited`), [{ version: 2 }]);
    const results = p.json('target/run_results.json').results as { unique_id: string; status: string; message: string }[];
    const by = Object.fromEntries(results.map((x) => [x.unique_id.split('.').pop(), x]));
    assert.equal(by.slow.status, 'error');
    assert.match(by.slow.message, /query_timeout of 1 s/);
    assert.equal(by.child.status, 'skipped');
    assert.ok(Date.now() - t0 < 15000);
  });

  it('rejects a query_timeout that is not a number of seconds', async () => {
    p.write({ 'models/bad.sql': "{{ config(query_timeout='soon') }}\nselect 1 as x" });
    try {
      const r = await p.cli('run', ['--select', 'bad']);
      assert.equal(r.code, 1, r.output);
      assert.match(r.stderr, /\[invalid-query-timeout\] query_timeout of model bad must be a number of seconds, got "soon"/);
    } finally {
      p.write({ 'models/bad.sql': null });
    }
  });
});
