/**
 * `kill -9` of the client in each phase that changes a relation in place
 * (issue 12): during a table's swap, during a seed's COPY, during an
 * incremental model's merge, during a snapshot's update. Each case asserts what
 * is left in the database (the previous rows, every relation still there, and
 * at most this invocation's `__tsdbt_tmp_<token>` helper, which blocks
 * nothing), then `tsdbt retry` completes the interrupted work (dbt's `retry`:
 * re-run what errored or was skipped in the last run_results.json) and leaves
 * exactly the project's relations. Every case ends with the secrets grep of
 * tests/faults/harness.ts.
 *
 * dbt's behaviour followed: each of these phases is one transaction in dbt
 * (`alter ... rename` + `drop` of the backup for table/seed builds, the
 * incremental `merge`, the snapshot's `update` + `insert`), so a client that
 * dies in it leaves the previous state; the server rolls the transaction back.
 *
 * How the client is caught in the phase:
 *  - PostgreSQL: an admin session holds a lock or the target carries a
 *    statement trigger that sleeps, and the test waits until
 *    pg_stat_activity shows the client's backend in that statement.
 *  - PGlite (the database runs inside the tsdbt process, so kill -9 kills the
 *    database too): a trigger / post-hook first writes a marker file into the
 *    data directory (`copy … to '/pglite/data/…'` — PGlite maps its data
 *    directory there) and then sleeps; the test kills the process once the
 *    marker exists. The directory must then reopen (the dead process's lock is
 *    taken over) with every committed relation intact.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { postgresSkipReason } from '../../src/adapters/testing.ts';
import { adminClient, FaultProject, until, type RunningCli } from './harness.ts';

const skip = await postgresSkipReason();
const ENGINES = ['postgres', 'pglite'] as const;
type Engine = (typeof ENGINES)[number];

/** Where PGlite maps the data directory inside its own file system. */
const PGLITE_DATA = '/pglite/data';
const HELPER = /__tsdbt_(tmp|backup)/;

/** The SQL of a plpgsql statement trigger function `<schema>.flt_hang()` that sleeps (and on PGlite first writes `marker`). */
function hangFunctionSql(schema: string, engine: Engine, marker: string): string {
  const mark = engine === 'pglite' ? `execute 'copy (select 1) to ''${PGLITE_DATA}/${marker}''';` : '';
  return `create or replace function ${schema}.flt_hang() returns trigger language plpgsql as $f$ begin ${mark} perform pg_sleep(120); return null; end $f$`;
}

/** Kills `run` with SIGKILL and waits for it. */
async function kill9(run: RunningCli): Promise<void> {
  run.child.kill('SIGKILL');
  const r = await run.done;
  assert.equal(r.signal, 'SIGKILL', r.output);
}

/** Waits until the PGlite marker file exists in the data directory, then removes it. */
async function markerSeen(p: FaultProject, marker: string, run: RunningCli): Promise<void> {
  const path = join(p.pgliteDir!, marker);
  let exited = false;
  void run.done.then(() => (exited = true));
  await until(`the marker ${marker} (the process is in the phase)`, async () => existsSync(path) || (exited && Promise.reject(new Error(run.output()))), 120000, 50).catch((e) => {
    throw new Error(`${(e as Error).message}\n${run.output()}`);
  });
  rmSync(path, { force: true });
}

/** No backend of this project is still running anything (the killed client's orphans are gone). */
async function orphansGone(p: FaultProject): Promise<void> {
  if (p.engine !== 'postgres') return;
  await until('the killed client\'s statements to end', async () => (await p.backendsRunning('%')).length === 0, 30000);
}

for (const engine of ENGINES) {
  describe(`kill -9 during a swap, a seed COPY, an incremental merge, a snapshot (${engine})`, { skip: engine === 'postgres' ? skip : undefined, concurrency: 1 }, () => {
    let p: FaultProject;
    before(async () => {
      p = await FaultProject.create({}, { engine, profile: engine === 'postgres' ? { threads: 2 } : {} });
    });
    after(async () => {
      await p?.cleanup();
    });

    it('during the swap: the previous table and its view are intact, the helper blocks nothing, retry swaps', async () => {
      // On PGlite a post-hook (inside the swap transaction, after the rename) marks and sleeps.
      const hook =
        engine === 'pglite'
          ? `, post_hook=["{% if var('hang', false) %}copy (select 1) to '${PGLITE_DATA}/flt_swap'{% endif %}", "select pg_sleep({{ 120 if var('hang', false) else 0 }})"]`
          : ', swap_lock_timeout=120';
      p.write({
        'models/t.sql': `{{ config(materialized='table'${hook}) }}\nselect g as id, {{ var('version', 1) }} as version from generate_series(1, 3) g`,
        'models/v.sql': "select * from {{ ref('t') }}",
      });
      const first = await p.cli('run');
      assert.equal(first.code, 0, first.output);

      let run: RunningCli;
      if (engine === 'postgres') {
        // An admin transaction reads t: the swap's rename waits for it, inside the swap transaction
        // (its dependent view already dropped there).
        const admin = await adminClient();
        try {
          await admin.query('begin');
          await admin.query(`lock table ${p.schema}.t in access share mode`);
          run = p.start('run', ['--vars', '{version: 2, hang: true}']);
          await until(
            'the swap to wait for its rename',
            async () =>
              (
                await p.rows(
                  `select 1 from pg_stat_activity where application_name = 'tsdbt' and wait_event_type = 'Lock' and query ilike 'alter table%rename%' and strpos(query, $1) > 0`,
                  [p.schema],
                )
              ).length > 0,
            60000,
          );
          await kill9(run);
        } finally {
          await admin.query('rollback').catch(() => undefined);
          await admin.end();
        }
      } else {
        run = p.start('run', ['--vars', '{version: 2, hang: true}']);
        await markerSeen(p, 'flt_swap', run);
        await kill9(run);
      }
      await orphansGone(p);

      // The previous state: t and v at version 1; no backup left; at most the killed invocation's build of t.
      assert.deepEqual(await p.rows(`select version, count(*)::int as n from ${p.schema}.t group by 1`), [{ version: 1, n: 3 }]);
      assert.deepEqual(await p.rows(`select version, count(*)::int as n from ${p.schema}.v group by 1`), [{ version: 1, n: 3 }]);
      const left = await p.relations();
      assert.deepEqual(left.filter((r) => !HELPER.test(r)), ['t', 'v']);
      for (const r of left.filter((x) => HELPER.test(x))) assert.match(r, /^t__tsdbt_tmp_[0-9a-f]{6}$/, `left behind: ${left.join(', ')}`);

      const retry = await p.cli('retry', ['--vars', '{version: 2}']);
      assert.equal(retry.code, 0, retry.output);
      assert.match(retry.stdout, /Retrying 2 nodes from the last 'run'/);
      assert.deepEqual(await p.rows(`select version, count(*)::int as n from ${p.schema}.v group by 1`), [{ version: 2, n: 3 }]);
      assert.deepEqual(await p.relations(), ['t', 'v']);
      await p.assertNoLeaks();
    });

    it('during a seed COPY: the seed keeps its previous rows, retry loads the file', async () => {
      // Every row passes a domain check that sleeps: the COPY of 200,000 rows would take minutes.
      const mark = engine === 'pglite' ? `if v = 1 then execute 'copy (select 1) to ''${PGLITE_DATA}/flt_copy'''; end if;` : '';
      await p.rows(`create schema if not exists ${p.schema}`);
      await p.rows(`create or replace function ${p.schema}.flt_slow(v int) returns boolean language plpgsql as $f$ begin ${mark} perform pg_sleep(0.002); return true; end $f$`);
      await p.rows(`create domain ${p.schema}.slow_int as integer check (${p.schema}.flt_slow(value))`);
      const project = `name: faults\nversion: '1.0.0'\nconfig-version: 2\nprofile: faults\nseeds:\n  faults:\n    +column_types:\n      id: ${p.schema}.slow_int\n`;
      p.write({ 'dbt_project.yml': project, 'seeds/people.csv': 'id,name\n1,alice\n2,bob\n3,carol\n' });
      const first = await p.cli('seed');
      assert.equal(first.code, 0, first.output);
      if (p.pgliteDir) rmSync(join(p.pgliteDir, 'flt_copy'), { force: true }); // that load passed row 1 too

      const lines = ['id,name'];
      for (let i = 1; i <= 200_000; i++) lines.push(`${i},name-${i}`);
      p.write({ 'seeds/people.csv': lines.join('\n') + '\n' });
      const run = p.start('seed');
      if (engine === 'postgres') await until('the COPY to be running', async () => (await p.backendsRunning('copy %')).length > 0, 60000);
      else await markerSeen(p, 'flt_copy', run);
      await new Promise((r) => setTimeout(r, 300)); // well inside the COPY
      await kill9(run);
      // On PostgreSQL the orphaned COPY goes on with the rows already in the socket buffers (the client's FIN
      // waits behind them) and aborts when it reads the end: minutes here. It must block nothing meanwhile.

      assert.deepEqual(await p.rows(`select count(*)::int as n from ${p.schema}.people`), [{ n: 3 }]);
      const helpers = async () => {
        const left = await p.relations();
        assert.deepEqual(left.filter((r) => !HELPER.test(r)), ['people', 't', 'v']);
        for (const r of left.filter((x) => HELPER.test(x))) assert.match(r, /^people__tsdbt_tmp_[0-9a-f]{6}$/, `left behind: ${left.join(', ')}`);
      };
      await helpers();

      p.write({ 'seeds/people.csv': 'id,name\n1,alice\n2,bob\n3,carol\n4,dan\n' });
      const retry = await p.cli('retry');
      assert.equal(retry.code, 0, retry.output);
      assert.match(retry.stdout, /Retrying 1 node from the last 'seed'/);
      assert.deepEqual(await p.rows(`select count(*)::int as n from ${p.schema}.people`), [{ n: 4 }]);
      await helpers(); // the orphan's own helper table is in use (its invocation lives on): kept
      if (engine === 'postgres') {
        // Stop the orphan instead of waiting minutes for it; then the next seed drops its helper table.
        await p.rows(`select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'tsdbt' and strpos(query, $1) > 0 and pid <> pg_backend_pid()`, [p.schema]);
        await orphansGone(p);
        const again = await p.cli('seed');
        assert.equal(again.code, 0, again.output);
      }
      assert.deepEqual(await p.relations(), ['people', 't', 'v']);
      p.write({ 'dbt_project.yml': "name: faults\nversion: '1.0.0'\nconfig-version: 2\nprofile: faults\n", 'seeds/people.csv': null });
      await p.assertNoLeaks();
    });

    it('during an incremental merge: the previous rows are intact, retry merges', async () => {
      p.write({
        'models/inc.sql':
          "{{ config(materialized='incremental', unique_key='id', incremental_strategy='merge') }}\nselect g as id, {{ var('version', 1) }} as version from generate_series(1, {{ var('n', 5) }}) g",
      });
      const first = await p.cli('run', ['--select', 'inc']);
      assert.equal(first.code, 0, first.output);
      await p.rows(hangFunctionSql(p.schema, engine, 'flt_merge'));
      await p.rows(`create trigger flt_hang before insert or update on ${p.schema}.inc for each statement execute function ${p.schema}.flt_hang()`);

      const run = p.start('run', ['--select', 'inc', '--vars', '{version: 2, n: 7}']);
      if (engine === 'postgres') await until('the merge to be running', async () => (await p.backendsRunning('%merge into%')).length > 0, 60000);
      else await markerSeen(p, 'flt_merge', run);
      await kill9(run);
      await orphansGone(p);

      assert.deepEqual(await p.rows(`select version, count(*)::int as n from ${p.schema}.inc group by 1`), [{ version: 1, n: 5 }]);
      assert.deepEqual(await p.relations(), ['inc', 'people', 't', 'v']);

      await p.rows(`drop trigger flt_hang on ${p.schema}.inc`);
      const retry = await p.cli('retry', ['--vars', '{version: 2, n: 7}']);
      assert.equal(retry.code, 0, retry.output);
      assert.match(retry.stdout, /Retrying 1 node from the last 'run'/);
      assert.deepEqual(await p.rows(`select version, count(*)::int as n from ${p.schema}.inc group by 1`), [{ version: 2, n: 7 }]);
      assert.deepEqual(await p.relations(), ['inc', 'people', 't', 'v']);
      await p.assertNoLeaks();
    });

    it('during a snapshot: the snapshot table is unchanged, retry records the change once', async () => {
      p.write({
        'snapshots/snap.sql':
          "{% snapshot snap %}\n{{ config(strategy='check', unique_key='id', check_cols=['version']) }}\nselect g as id, {{ var('version', 1) }} as version from generate_series(1, 3) g\n{% endsnapshot %}\n",
      });
      const first = await p.cli('snapshot');
      assert.equal(first.code, 0, first.output);
      await p.rows(hangFunctionSql(p.schema, engine, 'flt_snap'));
      await p.rows(`create trigger flt_hang before insert or update on ${p.schema}.snap for each statement execute function ${p.schema}.flt_hang()`);

      const run = p.start('snapshot', ['--vars', '{version: 2}']);
      if (engine === 'postgres') await until('the snapshot update to be running', async () => (await p.backendsRunning('%update %')).length > 0, 60000);
      else await markerSeen(p, 'flt_snap', run);
      await kill9(run);
      await orphansGone(p);

      const state = () => p.rows(`select version, dbt_valid_to is null as current, count(*)::int as n from ${p.schema}.snap group by 1, 2 order by 1, 2`);
      assert.deepEqual(await state(), [{ version: 1, current: true, n: 3 }]);
      assert.deepEqual(await p.relations(), ['inc', 'people', 'snap', 't', 'v']);

      await p.rows(`drop trigger flt_hang on ${p.schema}.snap`);
      const retry = await p.cli('retry', ['--vars', '{version: 2}']);
      assert.equal(retry.code, 0, retry.output);
      assert.match(retry.stdout, /Retrying 1 node from the last 'snapshot'/);
      assert.deepEqual(await state(), [
        { version: 1, current: false, n: 3 },
        { version: 2, current: true, n: 3 },
      ]);
      assert.deepEqual(await p.relations(), ['inc', 'people', 'snap', 't', 'v']);
      await p.assertNoLeaks();
    });
  });
}
