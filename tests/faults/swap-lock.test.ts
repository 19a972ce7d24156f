/**
 * Swaps never queue readers behind them (issue 12).
 *
 * A long report holding `t` makes the swap's rename wait for ACCESS
 * EXCLUSIVE, and PostgreSQL queues every new reader of `t` behind that
 * request — a read of a view over `t` would block for the whole report. tsdbt
 * waits for a lock at most `swap_lock_timeout`, rolls back (the queued readers
 * go on), retries with backoff, and gives up after `swap_lock_wait` with
 * `swap-lock-timeout` naming the session holding the table.
 */
import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { postgresSkipReason } from '../../src/adapters/testing.ts';
import { adminClient, FaultProject, until } from './harness.ts';

const FILES = {
  'models/inc.sql':
    "{{ config(materialized='incremental', unique_key='id', on_schema_change='append_new_columns', swap_lock_timeout=0.5) }}\nselect 1 as id{% if var('extra', false) %}, 'x' as extra{% endif %}",
  'models/t.sql': "{{ config(materialized='table', swap_lock_timeout=0.5, swap_lock_wait=var('wait', 60)) }}\nselect 1 as id, {{ var('version', 1) }} as version",
  'models/t_view.sql': "select * from {{ ref('t') }}",
};

const skip = await postgresSkipReason();

describe('the swap waits for locks briefly and retries, so readers are never stuck behind it (postgres)', { skip }, () => {
  let p: FaultProject;
  // Every case ends with the secrets grep: no output or artifact holds the password or a DBT_ENV_SECRET_ value.
  afterEach(async () => {
    await p?.assertNoLeaks();
  });
  before(async () => {
    p = await FaultProject.create(FILES);
    const first = await p.cli('run');
    assert.equal(first.code, 0, first.output);
  });
  after(async () => {
    await p?.cleanup();
  });

  /** True while tsdbt's rename of t waits for a lock. */
  const swapWaiting = async () =>
    (
      await p.rows<{ n: number }>(
        `select count(*)::int as n from pg_stat_activity
          where application_name = 'tsdbt' and wait_event_type = 'Lock' and query ilike 'alter table%rename%' and strpos(query, $1) > 0`,
        [p.schema],
      )
    )[0].n > 0;

  it('while a long report holds t, readers of the view over t keep being answered; the swap happens when the report ends', async () => {
    const report = await adminClient();
    const reader = await adminClient();
    try {
      await report.query('begin');
      await report.query(`select * from ${p.schema}.t`);
      const run = p.start('run', ['--select', 't', '--vars', '{version: 2}']);
      await until('the swap to wait for the report', swapWaiting, 30000, 20);
      // A reader arriving now, and again over the next seconds, is answered promptly (without the lock
      // timeout it would wait for the whole report: statement_timeout makes that a failure, not a hang).
      await reader.query('set statement_timeout = 5000');
      for (let i = 0; i < 4; i++) {
        const r = await reader.query(`select version from ${p.schema}.t_view`);
        assert.deepEqual(r.rows, [{ version: 1 }]);
        await new Promise((res) => setTimeout(res, 700));
      }
      assert.equal(run.child.exitCode, null, 'tsdbt is still trying');
      await report.query('commit');
      const r = await run.done;
      assert.equal(r.code, 0, r.output);
      assert.deepEqual((await reader.query(`select version from ${p.schema}.t_view`)).rows, [{ version: 2 }]);
    } finally {
      await report.query('rollback').catch(() => undefined);
      await report.end();
      await reader.end();
    }
  });

  it('gives up after swap_lock_wait with swap-lock-timeout naming the holder; the previous table is intact', async () => {
    const report = await adminClient();
    try {
      await report.query('begin');
      await report.query(`select * from ${p.schema}.t`);
      const pid = (await report.query('select pg_backend_pid() as pid')).rows[0].pid;
      const r = await p.cli('run', ['--select', 't', '--vars', '{version: 3, wait: 2}']);
      assert.equal(r.code, 1, r.output);
      assert.match(r.output, /\[swap-lock-timeout\] could not swap "[^"]+"\."t" into place: it is in use by pid (\d+)/);
      assert.match(r.output, new RegExp(`pid ${pid}\\b`));
      assert.match(r.output, /swap_lock_wait/);
      await report.query('commit');
      assert.deepEqual(await p.rows(`select version from ${p.schema}.t`), [{ version: 2 }]);
      assert.deepEqual(await p.relations(), ['inc', 't', 't_view']);
    } finally {
      await report.query('rollback').catch(() => undefined);
      await report.end();
    }
  });

  it('an incremental run that alters the table (on_schema_change) waits for locks the same way', async () => {
    const report = await adminClient();
    const reader = await adminClient();
    try {
      await report.query('begin');
      await report.query(`select * from ${p.schema}.inc`);
      const run = p.start('run', ['--select', 'inc', '--vars', '{extra: true}']);
      await until(
        'the alter table to wait for the report',
        async () =>
          (
            await p.rows<{ n: number }>(
              `select count(*)::int as n from pg_stat_activity
                where application_name = 'tsdbt' and wait_event_type = 'Lock' and query ilike 'alter table%add column%' and strpos(query, $1) > 0`,
              [p.schema],
            )
          )[0].n > 0,
        30000,
        20,
      );
      await reader.query('set statement_timeout = 5000');
      for (let i = 0; i < 3; i++) {
        assert.deepEqual((await reader.query(`select id from ${p.schema}.inc`)).rows, [{ id: 1 }]);
        await new Promise((res) => setTimeout(res, 700));
      }
      await report.query('commit');
      const r = await run.done;
      assert.equal(r.code, 0, r.output);
      assert.deepEqual((await reader.query(`select id, extra from ${p.schema}.inc`)).rows, [{ id: 1, extra: 'x' }]);
    } finally {
      await report.query('rollback').catch(() => undefined);
      await report.end();
      await reader.end();
    }
  });

  it('a swap_lock_timeout that is not a positive number is refused before anything runs (exit 2, the file and key named)', async () => {
    p.write({ 'models/bad.sql': "{{ config(materialized='table', swap_lock_timeout='soon') }}\nselect 1 as id" });
    try {
      const r = await p.cli('run', ['--select', 'bad']);
      assert.equal(r.code, 2, r.output);
      assert.match(r.stderr, /^models\/bad\.sql.*\[invalid-swap-lock-config\] config of model 'bad': swap_lock_timeout must be a positive number of seconds, got "soon"/m);
      assert.ok(!(await p.relations()).includes('bad'));
    } finally {
      p.write({ 'models/bad.sql': null });
    }
  });
});
