/**
 * Concurrency and crashes on PostgreSQL:
 *  - two runs on one target: the second waits for the first (run lock) with a
 *    message naming it, or fails at once with --no-wait (exit 1);
 *  - models built by --threads 4 with views over several of them never
 *    deadlock on swap or drop;
 *  - leftovers of a crashed run (`__tsdbt_tmp`, `__tsdbt_backup`) are dropped by
 *    the next run; a run killed with SIGKILL leaves nothing that stops the next.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { postgresSkipReason } from '../../src/adapters/testing.ts';
import { FaultProject, until } from './harness.ts';

const skip = await postgresSkipReason();

describe('two runs on one target (postgres)', { skip }, () => {
  let p: FaultProject;
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

describe('--threads 4 with views over several tables (postgres)', { skip }, () => {
  let p: FaultProject;
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
