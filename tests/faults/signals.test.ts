/**
 * SIGINT / SIGTERM during a run: the running query is cancelled at once (not
 * after the model finishes), an open swap transaction rolls back, the console
 * and run_results.json say which nodes were cancelled (status error, message
 * "cancelled") and which never started (skipped), exit code 130 / 143. A
 * second Ctrl-C exits at once. PGlite cannot interrupt a statement: it stops
 * after it and says so.
 */
import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { postgresSkipReason } from '../../src/adapters/testing.ts';
import { adminClient, FaultProject, until } from './harness.ts';

const FILES = {
  'models/base.sql': "{{ config(materialized='table') }}\nselect 1 as id",
  'models/slow.sql':
    "{{ config(materialized='table') }}\nselect id, pg_sleep({{ var('sleep', 0) }}) is not null as slept, {{ var('version', 1) }} as version from {{ ref('base') }}",
  'models/after_slow.sql': 'select * from {{ ref("slow") }}',
};

type Result = { unique_id: string; status: string; message: string | null };
const byName = (results: Result[]) => Object.fromEntries(results.map((x) => [x.unique_id.split('.').pop()!, x]));

const skip = await postgresSkipReason();

describe('signals (postgres)', { skip }, () => {
  let p: FaultProject;
  // Every case ends with the secrets grep: no output or artifact holds the password or a DBT_ENV_SECRET_ value.
  afterEach(async () => {
    await p?.assertNoLeaks();
  });
  before(async () => {
    p = await FaultProject.create(FILES, { profile: { threads: 2 } });
    const first = await p.cli('run');
    assert.equal(first.code, 0, first.output);
  });
  after(async () => {
    await p?.cleanup();
  });

  it('SIGINT cancels the running query at once, records it, exits 130', async () => {
    const run = p.start('run', ['--vars', '{sleep: 30, version: 2}']);
    await until('the slow model to be building', async () => (await p.backendsRunning('%slow__tsdbt_tmp%')).length > 0);
    const t0 = Date.now();
    run.child.kill('SIGINT');
    const r = await run.done;
    const took = Date.now() - t0;
    assert.equal(r.code, 130, r.output);
    assert.ok(took < 5000, `exited ${took} ms after SIGINT (the model would sleep 30 s)`);
    assert.match(r.stderr, /SIGINT received: cancelling the running queries/);
    assert.match(r.stdout, /CANCEL sql table model \S+\.slow .*\[CANCEL in/);
    assert.match(r.stdout, /SKIP relation \S+\.after_slow/);
    assert.match(r.stderr, /Cancelled by SIGINT: slow cancelled \(rolled back, previous relations intact\); 1 not started \(skipped\)/);
    const by = byName(p.json('target/run_results.json').results);
    assert.equal(by.slow.status, 'error');
    assert.equal(by.slow.message, 'cancelled');
    assert.equal(by.after_slow.status, 'skipped');
    assert.equal(by.base.status, 'success');
    // Nothing half-built, previous table intact, no query left running on the server.
    assert.deepEqual(await p.relations(), ['after_slow', 'base', 'slow']);
    assert.deepEqual(await p.rows(`select version from ${p.schema}.slow`), [{ version: 1 }]);
    assert.deepEqual(await p.backendsRunning('%slow%'), []);
  });

  it('SIGTERM during the swap transaction rolls it back and exits 143', async () => {
    // A reader holds the table: the swap's rename waits for it inside its transaction.
    const reader = await adminClient();
    try {
      await reader.query('begin');
      await reader.query(`select * from ${p.schema}.slow`);
      const run = p.start('run', ['--select', 'slow', '--vars', '{sleep: 0, version: 3}']);
      await until('the swap to wait for the reader', async () => {
        const r = await p.rows<{ n: number }>(
          `select count(*)::int as n from pg_stat_activity
            where application_name = 'tsdbt' and wait_event_type = 'Lock' and query ilike 'alter table%rename%' and strpos(query, $1) > 0`,
          [p.schema],
        );
        return r[0].n > 0;
      });
      run.child.kill('SIGTERM');
      const r = await run.done;
      assert.equal(r.code, 143, r.output);
      assert.match(r.stderr, /Cancelled by SIGTERM: slow cancelled/);
      assert.equal(byName(p.json('target/run_results.json').results).slow.message, 'cancelled');
    } finally {
      await reader.query('rollback').catch(() => undefined);
      await reader.end();
    }
    // The rename was rolled back: the old table is in place, the temporary one was dropped.
    assert.deepEqual(await p.rows(`select version from ${p.schema}.slow`), [{ version: 1 }]);
    assert.deepEqual(await p.relations(), ['after_slow', 'base', 'slow']);
  });

  it('a second SIGINT exits at once', async () => {
    // Two signals back to back: the second one exits without waiting for the cancel to finish.
    const run = p.start('run', ['--vars', '{sleep: 30, version: 4}']);
    await until('the slow model to be building', async () => (await p.backendsRunning('%slow__tsdbt_tmp%')).length > 0);
    run.child.kill('SIGINT');
    run.child.kill('SIGINT');
    const r = await run.done;
    assert.equal(r.code, 130, r.output);
    assert.match(r.stderr, /SIGINT received again: exiting now|Cancelled by SIGINT/);
    // The server stops the orphaned query by itself (client_connection_check_interval), or it was cancelled.
    await until('no tsdbt query left running', async () => (await p.backendsRunning('%slow%')).length === 0, 10000);
    assert.deepEqual(await p.rows(`select version from ${p.schema}.slow`), [{ version: 1 }]);
  });
});

describe('signals (pglite)', () => {
  let p: FaultProject;
  // Every case ends with the secrets grep: no output or artifact holds the password or a DBT_ENV_SECRET_ value.
  afterEach(async () => {
    await p?.assertNoLeaks();
  });
  before(async () => {
    p = await FaultProject.create(FILES, { engine: 'pglite' });
    const first = await p.cli('run');
    assert.equal(first.code, 0, first.output);
  });
  after(async () => {
    await p?.cleanup();
  });

  it('SIGINT stops after the running statement (which PGlite cannot interrupt) and says so', async () => {
    const run = p.start('run', ['--vars', '{sleep: 2, version: 2}']);
    await run.waitForOutput(/OK created sql table model \S+\.base/);
    await new Promise((r) => setTimeout(r, 300)); // slow is sleeping now
    run.child.kill('SIGINT');
    const r = await run.done;
    assert.equal(r.code, 130, r.output);
    assert.match(r.stderr, /PGlite\) cannot interrupt a running statement: tsdbt stops after the current one finishes/);
    const by = byName(p.json('target/run_results.json').results);
    assert.equal(by.slow.message, 'cancelled');
    assert.equal(by.after_slow.status, 'skipped');
    assert.equal(by.after_slow.message, 'SKIP (cancelled)');
    // The statement ran to its end, but the swap was never sent: old table kept, temporary one dropped.
    assert.deepEqual(await p.rows(`select version from ${p.schema}.slow`), [{ version: 1 }]);
    assert.deepEqual(await p.relations(), ['after_slow', 'base', 'slow']);
  });
});
