/**
 * Concurrency and crashes on PostgreSQL:
 *  - two runs on one target: the second waits for the first (run lock) with a
 *    message naming it, or fails at once with --no-wait (exit 1);
 *  - 20 runs started at once on one target: one runs at a time (their build
 *    windows never overlap), the waiting ones all run after it, the --no-wait
 *    ones that lose fail with run-locked, and what is left is one run's whole
 *    build (no mix of versions, no helper relation);
 *  - models built by --threads 4 with views over several of them never
 *    deadlock on swap or drop;
 *  - leftovers of a crashed run (`__tsdbt_tmp`, `__tsdbt_backup`) are dropped by
 *    the next run; a run killed with SIGKILL leaves nothing that stops the next.
 */
import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { postgresSkipReason } from '../../src/adapters/testing.ts';
import { FaultProject, until } from './harness.ts';

const skip = await postgresSkipReason();

describe('two runs on one target (postgres)', { skip }, () => {
  let p: FaultProject;
  // Every case ends with the secrets grep: no output or artifact holds the password or a DBT_ENV_SECRET_ value.
  afterEach(async () => {
    await p?.assertNoLeaks();
  });
  before(async () => {
    p = await FaultProject.create({
      'models/slow.sql': "{{ config(materialized='table') }}\nselect pg_sleep({{ var('sleep', 0) }}) is not null as slept, {{ var('version', 1) }} as version",
      'models/child.sql': "select * from {{ ref('slow') }}",
    });
    const first = await p.cli('run');
    assert.equal(first.code, 0, first.output);
  });
  after(async () => {
    await p?.cleanup();
  });

  it('the second run waits for the first, naming it, then runs', async () => {
    const a = p.start('run', ['--vars', '{sleep: 8, version: 2}']);
    await until('run A to be building', async () => (await p.backendsRunning('%slow__tsdbt_tmp%')).length > 0);
    const b = p.start('run', ['--vars', '{sleep: 0, version: 3}']);
    await b.waitForOutput(new RegExp(`waiting for another tsdbt run on ${p.schema} \\(pid ${a.child.pid} on \\S+, since [^)]+\\) to finish`));
    const ra = await a.done;
    const rb = await b.done;
    assert.equal(ra.code, 0, ra.output);
    assert.equal(rb.code, 0, rb.output);
    // B ran after A: its version is the one left.
    assert.deepEqual(await p.rows(`select version from ${p.schema}.slow`), [{ version: 3 }]);
  });

  it('--no-wait fails at once with exit code 1', async () => {
    const a = p.start('run', ['--vars', '{sleep: 8, version: 4}']);
    await until('run A to be building', async () => (await p.backendsRunning('%slow__tsdbt_tmp%')).length > 0);
    const rc = await p.cli('run', ['--no-wait']);
    assert.equal(rc.code, 1, rc.output);
    assert.match(rc.stderr, new RegExp(`\\[run-locked\\] another tsdbt run is already running on schema ${p.schema} of database \\S+ \\(pid ${a.child.pid} on `));
    assert.match(rc.stderr, /hint: wait for it to finish, or run without --no-wait/);
    const ra = await a.done;
    assert.equal(ra.code, 0, ra.output);
    assert.deepEqual(await p.rows(`select version from ${p.schema}.slow`), [{ version: 4 }]);
  });

  it('`tsdbt test` does not wait for a running build (it changes nothing)', async () => {
    p.write({ 'models/_schema.yml': 'version: 2\nmodels:\n  - name: slow\n    columns:\n      - name: version\n        data_tests: [not_null]\n' });
    const a = p.start('run', ['--vars', '{sleep: 8, version: 5}']);
    await until('run A to be building', async () => (await p.backendsRunning('%slow__tsdbt_tmp%')).length > 0);
    const t = await p.cli('test', ['--no-wait']);
    assert.equal(t.code, 0, t.output);
    assert.equal((await a.done).code, 0);
    p.write({ 'models/_schema.yml': null });
  });
});

describe('20 runs at once on one target (postgres)', { skip }, () => {
  let p: FaultProject;
  // Every case ends with the secrets grep: no output or artifact holds the password or a DBT_ENV_SECRET_ value.
  afterEach(async () => {
    await p?.assertNoLeaks();
  });
  before(async () => {
    p = await FaultProject.create({
      // a and b stamp the time their build ran; log (incremental, append) keeps one row per run that built.
      'models/a.sql':
        "{{ config(materialized='table') }}\nselect {{ var('version', 0) }} as version, clock_timestamp() as t0, pg_sleep({{ var('sleep', 0) }}) is not null as slept",
      'models/b.sql': "{{ config(materialized='table') }}\nselect version, t0, clock_timestamp() as t1 from {{ ref('a') }}",
      'models/log.sql': "{{ config(materialized='incremental') }}\nselect version, t0, t1 from {{ ref('b') }}",
      'models/v.sql': "select version from {{ ref('b') }}",
    });
    const first = await p.cli('run');
    assert.equal(first.code, 0, first.output);
  });
  after(async () => {
    await p?.cleanup();
  });

  it('one runs at a time; waiting runs follow, --no-wait runs fail clearly; nothing half-built', async () => {
    // Runs 1..20 at once: 1, 5, 9, 13, 17 wait for the lock (they then run one after another), the others use --no-wait.
    const runs = Array.from({ length: 20 }, (_, i) => {
      const version = i + 1;
      const noWait = version % 4 !== 1;
      return { version, noWait, run: p.start('run', [...(noWait ? ['--no-wait'] : []), '--vars', `{version: ${version}, sleep: 0.3}`]) };
    });
    const done = await Promise.all(runs.map(async (x) => ({ ...x, r: await x.run.done })));
    const built: number[] = [];
    for (const { version, noWait, r } of done) {
      if (r.code === 0) {
        built.push(version);
        assert.match(r.stdout, /Done\. PASS=4 WARN=0 ERROR=0 SKIP=0 NO-OP=0 TOTAL=4/, r.output);
        continue;
      }
      // Only a --no-wait run may fail, only at once, and only for the lock.
      assert.ok(noWait, `run ${version} (waiting) exited ${r.code}:\n${r.output}`);
      assert.equal(r.code, 1, r.output);
      assert.match(r.stderr, new RegExp(`\\[run-locked\\] another tsdbt run is already running on schema ${p.schema} `), r.output);
      assert.doesNotMatch(r.output, /Database Error|START|\n\s+at \S/, `run ${version} did more than fail on the lock:\n${r.output}`);
    }
    // Every waiting run ran in the end.
    for (const { version, noWait } of done) if (!noWait) assert.ok(built.includes(version), `waiting run ${version} did not build`);

    // log: the first run plus one row per run that built, and their build windows [t0, t1] never overlap.
    const log = await p.rows<{ version: number; t0: Date; t1: Date }>(`select version, t0, t1 from ${p.schema}.log order by t0`);
    assert.deepEqual(log.map((r) => r.version).sort((x, y) => x - y), [0, ...built].sort((x, y) => x - y));
    for (let i = 1; i < log.length; i++) {
      assert.ok(log[i - 1].t1.getTime() < log[i].t0.getTime(), `runs ${log[i - 1].version} and ${log[i].version} built at the same time`);
    }
    // What is left is the last run's whole build.
    const last = log[log.length - 1].version;
    assert.deepEqual(await p.rows(`select version from ${p.schema}.a`), [{ version: last }]);
    assert.deepEqual(await p.rows(`select version from ${p.schema}.v`), [{ version: last }]);
    assert.deepEqual(await p.relations(), ['a', 'b', 'log', 'v']);
  });
});

describe('--threads 4 with views over several tables (postgres)', { skip }, () => {
  let p: FaultProject;
  // Every case ends with the secrets grep: no output or artifact holds the password or a DBT_ENV_SECRET_ value.
  afterEach(async () => {
    await p?.assertNoLeaks();
  });
  before(async () => {
    const files: Record<string, string> = {};
    for (const t of ['a', 'b', 'c', 'd', 'e', 'f']) files[`models/${t}.sql`] = `{{ config(materialized='table') }}\nselect 1 as id, '${t}' as name, {{ var('v', 1) }} as v`;
    files['models/ab.sql'] = "select a.id, a.v + b.v as v from {{ ref('a') }} a join {{ ref('b') }} b using (id)";
    files['models/cd.sql'] = "select c.id, c.v + d.v as v from {{ ref('c') }} c join {{ ref('d') }} d using (id)";
    files['models/abcd.sql'] = "select ab.id, ab.v + cd.v as v from {{ ref('ab') }} ab join {{ ref('cd') }} cd using (id)";
    files['models/ef.sql'] = "{{ config(materialized='table') }}\nselect e.id, e.v + f.v as v from {{ ref('e') }} e join {{ ref('f') }} f using (id)";
    p = await FaultProject.create(files, { profile: { threads: 4 } });
  });
  after(async () => {
    await p?.cleanup();
  });

  it('rebuilds five times without a deadlock, the views always answering', async () => {
    for (let i = 1; i <= 5; i++) {
      // Only the tables: their swaps run concurrently while the views over them stay in place.
      const args = i === 1 ? [] : ['--select', 'config.materialized:table'];
      const r = await p.cli('run', ['--threads', '4', '--vars', `{v: ${i}}`, ...args]);
      assert.equal(r.code, 0, r.output);
      assert.doesNotMatch(r.output, /deadlock|could not open relation/i);
      assert.deepEqual(await p.rows(`select v from ${p.schema}.abcd`), [{ v: 4 * i }]);
    }
    assert.deepEqual(await p.relations(), ['a', 'ab', 'abcd', 'b', 'c', 'cd', 'd', 'e', 'ef', 'f']);
  });
});

describe('leftovers of a crashed run (postgres)', { skip }, () => {
  let p: FaultProject;
  // Every case ends with the secrets grep: no output or artifact holds the password or a DBT_ENV_SECRET_ value.
  afterEach(async () => {
    await p?.assertNoLeaks();
  });
  before(async () => {
    p = await FaultProject.create({
      'models/t.sql': "{{ config(materialized='table') }}\nselect pg_sleep({{ var('sleep', 0) }}) is not null as slept, {{ var('version', 1) }} as version",
      'models/v.sql': "select * from {{ ref('t') }}",
    });
    const first = await p.cli('run');
    assert.equal(first.code, 0, first.output);
  });
  after(async () => {
    await p?.cleanup();
  });

  it('the next run drops __tsdbt_tmp and __tsdbt_backup relations and builds', async () => {
    // What a crash between build and swap, or inside an interrupted swap, would leave.
    await p.rows(`create table ${p.schema}.t__tsdbt_tmp as select false as slept, 99 as version`);
    await p.rows(`create view ${p.schema}.t__tsdbt_backup as select 1 as x`);
    await p.rows(`create table ${p.schema}.v__tsdbt_tmp (x int)`);
    const r = await p.cli('run', ['--vars', '{version: 2}']);
    assert.equal(r.code, 0, r.output);
    assert.deepEqual(await p.relations(), ['t', 'v']);
    assert.deepEqual(await p.rows(`select version from ${p.schema}.v`), [{ version: 2 }]);
  });

  it('after SIGKILL mid-model the next run starts at once and completes; the old table was kept', async () => {
    const a = p.start('run', ['--vars', '{sleep: 20, version: 3}']);
    await until('the model to be building', async () => (await p.backendsRunning('%t__tsdbt_tmp%')).length > 0);
    a.child.kill('SIGKILL');
    await a.done;
    assert.deepEqual(await p.rows(`select version from ${p.schema}.t`), [{ version: 2 }]);
    const t0 = Date.now();
    const r = await p.cli('run', ['--no-wait', '--vars', '{version: 4}']);
    assert.equal(r.code, 0, r.output); // the run lock died with the killed process
    assert.ok(Date.now() - t0 < 15000, 'the orphaned query was stopped by the server (client_connection_check_interval)');
    assert.deepEqual(await p.rows(`select version from ${p.schema}.v`), [{ version: 4 }]);
    assert.deepEqual(await p.relations(), ['t', 'v']);
    // The next run no longer waits on the orphan (its helper relation carries its own invocation token), so the
    // server's client_connection_check_interval (2 s) may still be about to stop it: it must go, soon.
    await until('the orphaned query to be stopped by the server', async () => (await p.backendsRunning('%pg_sleep%')).length === 0);
  });
});
