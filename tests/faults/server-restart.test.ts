/**
 * The PostgreSQL server restarts mid-build: the build fails clearly (the model
 * that was building and the seed whose COPY was streaming both name the lost
 * connection, the model's downstream is skipped, run_results.json is written),
 * nothing is lost (the previous table and the seed's previous rows are intact;
 * a helper relation the dead invocation left blocks nothing), and `tsdbt retry`
 * completes the build, leaving exactly the project's relations. No output or
 * artifact holds a secret (harness `assertNoLeaks`). One restart for the file.
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

const SMALL_SEED = 'id,name\n1,alice\n2,bob\n3,carol\n';

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
        'seeds/people.csv': SMALL_SEED,
      },
      { profile: { retries: 0, threads: 2 } },
    );
    // The seed's id column checks each value with a 2 ms sleep: a big file streams for minutes.
    const c = await adminClient();
    try {
      await c.query(`create schema ${p.schema}`);
      await c.query(`create domain ${p.schema}.slow_int as integer check (value is null or pg_catalog.pg_sleep(0.002) is not null)`);
    } finally {
      await c.end();
    }
    p.write({ 'dbt_project.yml': `name: faults\nversion: '1.0.0'\nconfig-version: 2\nprofile: faults\nseeds:\n  faults:\n    +column_types:\n      id: ${p.schema}.slow_int\n` });
    const first = await p.cli('build');
    assert.equal(first.code, 0, first.output);
  });
  after(async () => {
    await ensureServerUp();
    await p?.cleanup();
  });

  it('fails clearly, keeps the previous table and seed rows, and `tsdbt retry` completes the build', async () => {
    const lines = ['id,name'];
    for (let i = 1; i <= 200_000; i++) lines.push(`${i},name-${i}`);
    p.write({ 'seeds/people.csv': lines.join('\n') + '\n' });
    const run = p.start('build', ['--vars', '{sleep: 30}'], env);
    try {
      await until('the slow model to be building', async () => (await p.backendsRunning('%slow__tsdbt_tmp%')).length > 0, 60000);
      await until('the seed COPY to be streaming', async () => (await p.backendsRunning('copy %')).length > 0, 60000);
      ctl('restart');
    } finally {
      await ensureServerUp();
    }
    const r = await run.done;
    assert.equal(r.code, 1, r.output);
    assert.match(r.stderr, /Lost the connection to the database in model slow \(models\/slow\.sql\): terminating connection due to administrator command\. Nothing was changed: the previous relation is intact\./);
    assert.match(r.stderr, /Lost the connection to the database in seed people \(seeds\/people\.csv\): [^\n]*Nothing was changed: the previous relation is intact\./);
    assert.match(r.stderr, /lost the run lock on/);
    assert.doesNotMatch(r.output, /\n\s+at \S/, 'no stack trace');
    const results = p.json('target/run_results.json').results as { unique_id: string; status: string }[];
    const by = Object.fromEntries(results.map((x) => [x.unique_id.split('.').pop(), x.status]));
    assert.deepEqual(by, { base: 'success', slow: 'error', child: 'skipped', people: 'error' });
    assert.equal(p.json('target/run_results.json').args.invocation_unfinished, undefined, 'the build ended (with errors): its record is final');
    assert.deepEqual(await p.rows(`select version from ${p.schema}.slow`), [{ version: 1 }]);
    assert.deepEqual(await p.rows(`select count(*)::int as n from ${p.schema}.people`), [{ n: 3 }]);
    // At most the dead invocation's helper relations are left; the retry below is not blocked by them.
    const left = await p.relations();
    assert.deepEqual(left.filter((x) => !/__tsdbt_/.test(x)), ['base', 'child', 'people', 'slow']);
    for (const x of left.filter((y) => /__tsdbt_/.test(y))) assert.match(x, /^(people|slow)__tsdbt_tmp_[0-9a-f]{6}$/);

    p.write({ 'seeds/people.csv': SMALL_SEED + '4,dan\n' });
    const retry = await p.cli('retry', [], env);
    assert.equal(retry.code, 0, retry.output);
    assert.match(retry.stdout, /Retrying 3 nodes from the last 'build'/);
    assert.deepEqual(await p.rows(`select version from ${p.schema}.child`), [{ version: 2 }]);
    assert.deepEqual(await p.rows(`select count(*)::int as n from ${p.schema}.people`), [{ n: 4 }]);
    assert.deepEqual(await p.relations(), ['base', 'child', 'people', 'slow']);
    await p.assertNoLeaks();
  });
});
