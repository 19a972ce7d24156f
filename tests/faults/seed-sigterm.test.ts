/**
 * SIGTERM during a seed's COPY (issue 12): the client stops streaming the file
 * at once (CopyFail), the running COPY is cancelled on the server, the load
 * rolls back, and tsdbt exits 143 — the seed keeps its previous rows.
 *
 * Before, tsdbt cancelled the statement but kept streaming the rest of the
 * file into it, and exited only after the whole file had been sent.
 *
 * Two cases. (1) The COPY is made slow on the server by a column type that is
 * a domain whose CHECK sleeps per row, so the load would take minutes.
 * (2) A fast server and inferred column types: the cancelled COPY's error used
 * to go through the bad-value diagnosis, which reads the whole file again
 * (seconds for a big seed; ≈ 2.4 s for this 2M-row file on the test machine,
 * the issue measured 8.5 s on a bigger one) before the run could stop.
 * PostgreSQL only: PGlite cannot interrupt a statement (see
 * tests/faults/signals.test.ts).
 */
import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { postgresSkipReason } from '../../src/adapters/testing.ts';
import { adminClient, FaultProject, until } from './harness.ts';

const skip = await postgresSkipReason();

describe('SIGTERM during a seed COPY (postgres)', { skip }, () => {
  let p: FaultProject;
  // Every case ends with the secrets grep: no output or artifact holds the password or a DBT_ENV_SECRET_ value.
  afterEach(async () => {
    await p?.assertNoLeaks();
  });
  before(async () => {
    p = await FaultProject.create({});
    const c = await adminClient();
    try {
      await c.query(`create schema ${p.schema}`);
      // 2 ms per row on the server: the big file below would take about 20 minutes to load.
      await c.query(`create domain ${p.schema}.slow_int as integer check (value is null or pg_catalog.pg_sleep(0.002) is not null)`);
    } finally {
      await c.end();
    }
    p.write({
      'dbt_project.yml': `name: faults\nversion: '1.0.0'\nconfig-version: 2\nprofile: faults\nseeds:\n  faults:\n    +column_types:\n      id: ${p.schema}.slow_int\n      name: text\n`,
      'seeds/people.csv': 'id,name\n1,alice\n2,bob\n3,carol\n',
    });
    const first = await p.cli('seed');
    assert.equal(first.code, 0, first.output);
    assert.deepEqual(await p.rows(`select count(*)::int as n from ${p.schema}.people`), [{ n: 3 }]);
  });
  after(async () => {
    await p?.cleanup();
  });

  it('stops the stream and the COPY, rolls back, exits 143; the seed keeps its previous rows', async () => {
    const lines = ['id,name'];
    for (let i = 1; i <= 600_000; i++) lines.push(`${i},name-${i}`);
    p.write({ 'seeds/people.csv': lines.join('\n') + '\n' });

    const run = p.start('seed');
    await until('the COPY to be running on the server', async () => (await p.backendsRunning('copy %')).length > 0, 60000);
    await new Promise((r) => setTimeout(r, 500)); // well inside the COPY
    const t0 = Date.now();
    run.child.kill('SIGTERM');
    const r = await run.done;
    const took = Date.now() - t0;
    assert.equal(r.code, 143, r.output);
    // Generous bound (the machine is shared): the load itself would take minutes.
    assert.ok(took < 5000, `exited ${took} ms after SIGTERM`);
    assert.match(r.stdout, /CANCEL seed/, r.output);
    const results = p.json('target/run_results.json').results as { unique_id: string; status: string; message: string | null }[];
    assert.deepEqual(results.map((x) => [x.unique_id, x.status, x.message]), [['seed.faults.people', 'error', 'cancelled']]);
    // The previous rows are there, nothing half-loaded is left, and no COPY keeps running on the server.
    assert.deepEqual(await p.rows(`select count(*)::int as n from ${p.schema}.people`), [{ n: 3 }]);
    assert.deepEqual(await p.relations(), ['people']);
    await until('no COPY left on the server', async () => (await p.backendsRunning('copy %')).length === 0, 5000);
  });

  it('with inferred column types on a fast server: cancelled at once, reported as cancelled (not a bad value), exit 143', async () => {
    p.write({
      'dbt_project.yml': "name: faults\nversion: '1.0.0'\nconfig-version: 2\nprofile: faults\n",
      'seeds/sales.csv': 'id,name,amount\n1,a,1.5\n2,b,2.5\n',
      'seeds/people.csv': null,
    });
    const first = await p.cli('seed');
    assert.equal(first.code, 0, first.output);
    const lines = ['id,name,amount'];
    for (let i = 1; i <= 2_000_000; i++) lines.push(`${i},name-${i},${i}.25`);
    p.write({ 'seeds/sales.csv': lines.join('\n') + '\n' });
    const run = p.start('seed');
    await until('the COPY to be running on the server', async () => (await p.backendsRunning('copy %')).length > 0, 60000, 20);
    await new Promise((r) => setTimeout(r, 200));
    const t0 = Date.now();
    run.child.kill('SIGTERM');
    const r = await run.done;
    const took = Date.now() - t0;
    assert.equal(r.code, 143, r.output);
    assert.ok(took < 5000, `exited ${took} ms after SIGTERM`);
    assert.doesNotMatch(r.output, /seed-bad-value/);
    const results = p.json('target/run_results.json').results as { unique_id: string; status: string; message: string | null }[];
    assert.deepEqual(results.map((x) => [x.unique_id, x.status, x.message]), [['seed.faults.sales', 'error', 'cancelled']]);
    assert.deepEqual(await p.rows(`select count(*)::int as n from ${p.schema}.sales`), [{ n: 2 }]);
    await until('no COPY left on the server', async () => (await p.backendsRunning('copy %')).length === 0, 5000);
  });
});
