/**
 * The PostgreSQL server restarts mid-run: the run fails clearly (the model that
 * was building names the lost connection, its downstream is skipped,
 * run_results.json is written), nothing is lost (the previous table is
 * intact), and `tsdbt retry` completes the run.
 *
 * Restarting the server breaks every other test using it at that moment, so
 * this runs only when TSDBT_FAULT_RESTART=1, alone:
 *
 *   TSDBT_FAULT_RESTART=1 node --import tsx --test tests/faults/server-restart.test.ts
 *
 * It needs `pg_ctlcluster` (Debian's postgresql-common) and the right to use it
 * (root or postgres). The server is started again in a `finally` whatever
 * happens, and the test waits until it answers, so it cannot leave it down.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { FaultProject, adminClient, until } from './harness.ts';

function clusterVersion(): string | null {
  try {
    return readdirSync('/etc/postgresql').sort().pop() ?? null;
  } catch {
    return null;
  }
}

const version = clusterVersion();
const skip =
  process.env.TSDBT_FAULT_RESTART !== '1'
    ? 'restarts the PostgreSQL server: set TSDBT_FAULT_RESTART=1 and run this file alone'
    : version === null
      ? 'no /etc/postgresql/<version> cluster to restart with pg_ctlcluster'
      : undefined;

function ctl(action: 'restart' | 'start'): void {
  execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', version!, 'main', action], { stdio: 'pipe', timeout: 60000 });
}

async function serverAnswers(): Promise<boolean> {
  const c = await adminClient().catch(() => null);
  if (!c) return false;
  try {
    await c.query('select 1');
    return true;
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** Starts the server if it does not answer, and waits (up to 60 s) until it does. */
async function ensureServerUp(): Promise<void> {
  if (await serverAnswers()) return;
  try {
    ctl('start');
  } catch {
    /* already starting */
  }
  await until('PostgreSQL to answer again', serverAnswers, 60000, 500);
}

describe('server restart mid-run (postgres)', { skip }, () => {
  let p: FaultProject;
  const env = { MODEL_VERSION: '2' };
  before(async () => {
    p = await FaultProject.create(
      {
        'models/base.sql': "{{ config(materialized='table') }}\nselect 1 as id",
        'models/slow.sql':
          "{{ config(materialized='table') }}\nselect id, pg_sleep({{ var('sleep', 0) }}) is not null as slept, {{ env_var('MODEL_VERSION', '1') }} as version from {{ ref('base') }}",
        'models/child.sql': "select * from {{ ref('slow') }}",
      },
      { profile: { retries: 0, threads: 2 } },
    );
    const first = await p.cli('run');
    assert.equal(first.code, 0, first.output);
  });
  after(async () => {
    await ensureServerUp();
    await p?.cleanup();
  });

  it('fails clearly, keeps the previous table, and `tsdbt retry` completes the run', async () => {
    const run = p.start('run', ['--vars', '{sleep: 8}'], env);
    try {
      await until('the slow model to be building', async () => (await p.backendsRunning('%slow__tsdbt_tmp%')).length > 0);
      ctl('restart');
    } finally {
      await ensureServerUp();
    }
    const r = await run.done;
    assert.equal(r.code, 1, r.output);
    assert.match(r.stderr, /Lost the connection to the database in model slow \(models\/slow\.sql\): terminating connection due to administrator command\. Nothing was changed: the previous relation is intact\./);
    assert.match(r.stderr, /lost the run lock on/);
    const results = p.json('target/run_results.json').results as { unique_id: string; status: string }[];
    const by = Object.fromEntries(results.map((x) => [x.unique_id.split('.').pop(), x.status]));
    assert.deepEqual(by, { base: 'success', slow: 'error', child: 'skipped' });
    assert.deepEqual(await p.rows(`select version from ${p.schema}.slow`), [{ version: 1 }]);

    const retry = await p.cli('retry', [], env);
    assert.equal(retry.code, 0, retry.output);
    assert.match(retry.stdout, /Retrying 2 nodes from the last 'run'/);
    assert.deepEqual(await p.rows(`select version from ${p.schema}.child`), [{ version: 2 }]);
    assert.deepEqual(await p.relations(), ['base', 'child', 'slow']);
  });
});
