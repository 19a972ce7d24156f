/**
 * The server refuses writes or runs out of room mid-run (issue 12):
 *  - `default_transaction_read_only` (SQLSTATE 25006, what a client meets after
 *    a failover to a standby): on PostgreSQL the session of a running model is
 *    terminated and the role turned read-only meanwhile, so tsdbt's automatic
 *    re-run on a new connection (`retries: 1`) meets a read-only session; on
 *    PGlite the database is read-only for the whole run;
 *  - `temp_file_limit` exceeded (SQLSTATE 53400, the disk-full-like error one
 *    can cause without filling the shared server's disk): a model that sorts
 *    more than the limit fails while the others build.
 * Each: a clear message naming the model and what to do, exit 1, run_results
 * says error / skipped, the previous tables and views intact, nothing
 * half-built, and `tsdbt retry` completes once the cause is gone. dbt-postgres
 * reports both as a plain "Database Error"; the message wording is tsdbt's.
 * On PostgreSQL the settings are given to a role of the test's own (a
 * superuser created and dropped here), never to the shared server.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createAdapter } from '../../src/adapters/index.ts';
import { pgliteTargetForDir, postgresSkipReason } from '../../src/adapters/testing.ts';
import { quoteIdentifier } from '../../src/adapters/quote.ts';
import { adminClient, FaultProject, until } from './harness.ts';

const skip = await postgresSkipReason();

const FILES = {
  'models/base.sql': "{{ config(materialized='table') }}\nselect 1 as id, {{ var('version', 1) }} as version",
  'models/slow.sql':
    "{{ config(materialized='table') }}\nselect id, pg_sleep({{ var('sleep', 0) }}) is not null as slept, {{ var('version', 1) }} as version from {{ ref('base') }}",
  'models/after_slow.sql': "select * from {{ ref('slow') }}",
  // Sorting 200,000 rows of md5 text needs several MB: far above a 256 kB temp_file_limit with 64 kB work_mem.
  'models/big.sql':
    "{{ config(materialized='table') }}\nselect g as id, md5(g::text) as h, {{ var('version', 1) }} as version from generate_series(1, {{ var('big_rows', 1000) }}) g order by h",
  'models/big_view.sql': "select version, count(*) as n from {{ ref('big') }} group by version",
};

type Result = { unique_id: string; status: string; message: string | null };
const statuses = (p: FaultProject) =>
  Object.fromEntries((p.json('target/run_results.json').results as Result[]).map((x) => [x.unique_id.split('.').pop(), x.status]));

async function versions(p: FaultProject): Promise<Record<string, number[]>> {
  const out: Record<string, number[]> = {};
  for (const t of ['base', 'slow', 'after_slow', 'big']) out[t] = (await p.rows<{ version: number }>(`select distinct version from ${p.schema}.${t} order by 1`)).map((r) => r.version);
  return out;
}

const RELATIONS = ['after_slow', 'base', 'big', 'big_view', 'slow'];

describe('read-only session and temp_file_limit mid-run (postgres)', { skip, concurrency: 1 }, () => {
  let p: FaultProject;
  const role = `flt_role_${process.pid}`;
  const setRole = async (sql: string) => {
    const c = await adminClient();
    try {
      await c.query(`alter role ${quoteIdentifier(role)} ${sql}`);
    } finally {
      await c.end();
    }
  };
  before(async () => {
    const c = await adminClient();
    try {
      await c.query(`drop role if exists ${quoteIdentifier(role)}`);
      await c.query(`create role ${quoteIdentifier(role)} login superuser`);
    } finally {
      await c.end();
    }
    p = await FaultProject.create(FILES, { profile: { user: role, retries: 1, threads: 1 } });
    const first = await p.cli('run');
    assert.equal(first.code, 0, first.output);
  });
  after(async () => {
    await p?.cleanup();
    const c = await adminClient();
    try {
      await c.query(`drop role if exists ${quoteIdentifier(role)}`);
    } finally {
      await c.end();
    }
  });

  it('default_transaction_read_only after a reconnect: clear message, previous tables intact, retry completes', async () => {
    const run = p.start('run', ['--select', 'base+', '--vars', '{version: 2, sleep: 30}']);
    let ro = false;
    try {
      const [pid] = await until('slow to be building', async () => {
        const pids = await p.backendsRunning('%slow__tsdbt_tmp%');
        return pids.length ? pids : null;
      });
      // The "failover": new sessions of the role are read-only, and the running one is cut.
      await setRole('set default_transaction_read_only = on');
      ro = true;
      await p.rows('select pg_terminate_backend($1)', [pid]);
      const r = await run.done;
      assert.equal(r.code, 1, r.output);
      assert.match(r.stderr, /lost the connection to the database .*running it again on a new connection/);
      assert.match(
        r.stderr,
        /Read-only database in model slow \(models\/slow\.sql\): cannot execute [A-Z ]+ in a read-only transaction\. The server accepts no writes in this session \(a standby after a failover, or default_transaction_read_only is on for the role or database\)\. Nothing was changed: the previous relation is intact\./,
      );
      assert.match(r.stderr, /hint: point the profile at the primary server, or turn default_transaction_read_only off/);
      assert.doesNotMatch(r.output, /\n\s+at \S/, 'no stack trace');
      const s = statuses(p);
      assert.equal(s.base, 'success');
      assert.equal(s.slow, 'error');
      assert.equal(s.after_slow, 'skipped');
      assert.deepEqual(await versions(p), { base: [2], slow: [1], after_slow: [1], big: [1] });
      assert.deepEqual(await p.relations(), RELATIONS);
    } finally {
      if (ro) await setRole('reset default_transaction_read_only');
      run.child.kill('SIGKILL');
    }
    const retry = await p.cli('retry', ['--vars', '{version: 2}']);
    assert.equal(retry.code, 0, retry.output);
    assert.deepEqual(await versions(p), { base: [2], slow: [2], after_slow: [2], big: [1] });
    assert.deepEqual(await p.relations(), RELATIONS);
    await p.assertNoLeaks();
  });

  it('temp_file_limit exceeded: the model fails clearly, the others build, retry completes', async () => {
    await setRole("set temp_file_limit = '256kB'");
    await setRole("set work_mem = '64kB'");
    try {
      const r = await p.cli('run', ['--vars', '{version: 3, big_rows: 200000}']);
      assert.equal(r.code, 1, r.output);
      assert.match(
        r.stderr,
        /Out of resources in model big \(models\/big\.sql\): a statement exceeded temp_file_limit \(temporary file size exceeds temp_file_limit \(256kB\)\)\. The statement was rolled back; nothing was half-built: the previous relation is intact\./,
      );
      assert.match(r.stderr, /hint: raise temp_file_limit for this role, or make the query spill less/);
      assert.doesNotMatch(r.output, /\n\s+at \S/, 'no stack trace');
      const s = statuses(p);
      assert.deepEqual([s.base, s.slow, s.after_slow, s.big, s.big_view], ['success', 'success', 'success', 'error', 'skipped']);
      assert.deepEqual(await versions(p), { base: [3], slow: [3], after_slow: [3], big: [1] });
      assert.deepEqual(await p.rows(`select version, n::int from ${p.schema}.big_view`), [{ version: 1, n: 1000 }]);
      assert.deepEqual(await p.relations(), RELATIONS);
    } finally {
      await setRole('reset temp_file_limit');
      await setRole('reset work_mem');
    }
    const retry = await p.cli('retry', ['--vars', '{version: 3, big_rows: 2000}']);
    assert.equal(retry.code, 0, retry.output);
    assert.deepEqual(await p.rows(`select version, n::int from ${p.schema}.big_view`), [{ version: 3, n: 2000 }]);
    assert.deepEqual(await p.relations(), RELATIONS);
    await p.assertNoLeaks();
  });
});

describe('read-only database and temp_file_limit (pglite)', { concurrency: 1 }, () => {
  let p: FaultProject;
  /**
   * Runs `ALTER SYSTEM …` statements on the project's data directory (in a read-write session, so it works while
   * the database is read-only). PGlite applies postgresql.auto.conf when the directory is next opened; it ignores
   * ALTER DATABASE / ALTER ROLE settings.
   */
  const alterSystem = async (...settings: string[]) => {
    const a = await createAdapter(pgliteTargetForDir(p.pgliteDir!, p.schema), { lockTimeoutMs: 5000 });
    try {
      await a.query('set default_transaction_read_only = off');
      for (const x of settings) await a.query(`alter system ${x}`);
    } finally {
      await a.close();
    }
  };
  before(async () => {
    p = await FaultProject.create(FILES, { engine: 'pglite' });
    const first = await p.cli('run');
    assert.equal(first.code, 0, first.output);
  });
  after(async () => {
    await p?.cleanup();
  });

  it('a read-only database: every model fails clearly, nothing changes, retry completes once writable', async () => {
    await alterSystem('set default_transaction_read_only = on');
    let r;
    try {
      r = await p.cli('run', ['--vars', '{version: 2}']);
    } finally {
      await alterSystem('reset default_transaction_read_only');
    }
    assert.equal(r.code, 1, r.output);
    assert.match(r.stderr, /Read-only database in model base \(models\/base\.sql\): cannot execute [A-Z ]+ in a read-only transaction\./);
    assert.match(r.stderr, /Nothing was changed: the previous relation is intact\./);
    assert.doesNotMatch(r.output, /\n\s+at \S/, 'no stack trace');
    assert.equal(statuses(p).base, 'error');
    assert.deepEqual(await versions(p), { base: [1], slow: [1], after_slow: [1], big: [1] });
    assert.deepEqual(await p.relations(), RELATIONS);
    const retry = await p.cli('retry', ['--vars', '{version: 2}']);
    assert.equal(retry.code, 0, retry.output);
    assert.deepEqual(await versions(p), { base: [2], slow: [2], after_slow: [2], big: [2] });
    await p.assertNoLeaks();
  });

  it('temp_file_limit exceeded: the model fails clearly, the others build', async () => {
    await alterSystem("set temp_file_limit = '256kB'", "set work_mem = '64kB'");
    let r;
    try {
      r = await p.cli('run', ['--vars', '{version: 3, big_rows: 200000}']);
    } finally {
      await alterSystem('reset temp_file_limit', 'reset work_mem');
    }
    assert.equal(r.code, 1, r.output);
    assert.match(r.stderr, /Out of resources in model big \(models\/big\.sql\): a statement exceeded temp_file_limit/);
    const s = statuses(p);
    assert.deepEqual([s.base, s.big, s.big_view], ['success', 'error', 'skipped']);
    assert.deepEqual(await versions(p), { base: [3], slow: [3], after_slow: [3], big: [2] });
    assert.deepEqual(await p.relations(), RELATIONS);
    await p.assertNoLeaks();
  });
});
