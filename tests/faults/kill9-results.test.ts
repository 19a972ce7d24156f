/**
 * `kill -9` of a run leaves an honest run_results.json, and `tsdbt retry`
 * rebuilds what was not done (issue 12).
 *
 * dbt writes run_results.json at the end only, so a killed run leaves the
 * previous invocation's file and `retry` says "nothing to retry" while the
 * half-applied change is never rebuilt. tsdbt writes the file at the start
 * with every node not done and `args.invocation_unfinished: true`, and journals
 * each node's start and finish to target/run_results.journal.jsonl; reading the
 * record (`readRunResults`, as retry does) applies the journal: done nodes with
 * their results, the running one `error`, the rest `skipped`.
 *
 * The version of every model comes from an environment variable, so the test
 * can tell which invocation built each table.
 */
import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { postgresSkipReason } from '../../src/adapters/testing.ts';
import { readRunResults } from '../../src/artifacts/index.ts';
import { FaultProject, until } from './harness.ts';

const FILES = {
  'models/base.sql': "{{ config(materialized='table') }}\nselect 1 as id, {{ env_var('FLT_VERSION') }} as version",
  'models/slow.sql':
    "{{ config(materialized='table') }}\nselect id, pg_sleep({{ env_var('FLT_SLEEP', '0') }}) is not null as slept, {{ env_var('FLT_VERSION') }} as version from {{ ref('base') }}",
  'models/after_slow.sql': "{{ config(materialized='table') }}\nselect id, {{ env_var('FLT_VERSION') }} as version from {{ ref('slow') }}",
};

type Result = { unique_id: string; status: string; message: string | null };
const byName = (results: Result[]) => Object.fromEntries(results.map((x) => [x.unique_id.split('.').pop()!, x]));

const skip = await postgresSkipReason();
/** The record as a reader of target/ sees it (retry, `result:` selection): run_results.json with its journal applied. */
const record = (p: FaultProject) => readRunResults(join(p.dir, 'target')) as unknown as { args: Record<string, unknown>; results: Result[] };

describe('kill -9 mid-run: run_results.json is honest and retry finishes the run (postgres)', { skip }, () => {
  let p: FaultProject;
  // Every case ends with the secrets grep: no output or artifact holds the password or a DBT_ENV_SECRET_ value.
  afterEach(async () => {
    await p?.assertNoLeaks();
  });
  before(async () => {
    p = await FaultProject.create(FILES, { profile: { threads: 1 } });
  });
  after(async () => {
    await p?.cleanup();
  });

  it('records done / interrupted / not started, marks the invocation unfinished, and retry rebuilds the rest', async () => {
    const first = await p.cli('run', [], { FLT_VERSION: '1' });
    assert.equal(first.code, 0, first.output);
    assert.equal(p.json('target/run_results.json').args.invocation_unfinished, undefined, 'a finished run is not marked unfinished');

    const run = p.start('run', [], { FLT_VERSION: '2', FLT_SLEEP: '60' });
    await until('the slow model to be building', async () => (await p.backendsRunning('%pg_sleep%')).length > 0, 30000);
    // While it runs, the record already says base is done and slow is not.
    const during = record(p);
    assert.equal(during.args.invocation_unfinished, true);
    assert.equal(byName(during.results).base.status, 'success');
    run.child.kill('SIGKILL');
    const r = await run.done;
    assert.equal(r.signal, 'SIGKILL');

    // The file is valid JSON (written atomically) and, with its journal, tells what happened.
    assert.equal(p.json('target/run_results.json').args.invocation_unfinished, true);
    const rr = record(p);
    assert.equal(rr.args.invocation_unfinished, true);
    const by = byName(rr.results);
    assert.equal(by.base.status, 'success');
    assert.equal(by.slow.status, 'error');
    assert.match(by.slow.message ?? '', /^interrupted: the invocation ended while this node was running/);
    assert.equal(by.after_slow.status, 'skipped');
    assert.match(by.after_slow.message ?? '', /^not run: the invocation ended before this node started/);
    // The database holds the half-applied change: base is new, slow and after_slow are old.
    assert.deepEqual(await p.rows(`select version from ${p.schema}.base`), [{ version: 2 }]);
    assert.deepEqual(await p.rows(`select version from ${p.schema}.slow`), [{ version: 1 }]);
    assert.deepEqual(await p.rows(`select version from ${p.schema}.after_slow`), [{ version: 1 }]);

    // retry rebuilds exactly what was not done (the killed backend is stopped by the server meanwhile).
    const retry = await p.cli('retry', [], { FLT_VERSION: '2', FLT_SLEEP: '0' });
    assert.equal(retry.code, 0, retry.output);
    assert.match(retry.stdout, /Retrying 2 nodes from the last 'run' \(it did not finish/);
    assert.doesNotMatch(retry.stdout, /created sql table model \S+\.base/);
    assert.deepEqual(await p.rows(`select version from ${p.schema}.slow`), [{ version: 2 }]);
    assert.deepEqual(await p.rows(`select version from ${p.schema}.after_slow`), [{ version: 2 }]);
    const after = p.json('target/run_results.json');
    assert.equal(after.args.invocation_unfinished, undefined);
    assert.deepEqual(after.results.map((x: Result) => [x.unique_id.split('.').pop(), x.status]).sort(), [
      ['after_slow', 'success'],
      ['slow', 'success'],
    ]);
  });
});

describe('kill -9 mid-run on the embedded database: the same record, and retry reopens the data directory (pglite)', () => {
  let p: FaultProject;
  // Every case ends with the secrets grep: no output or artifact holds the password or a DBT_ENV_SECRET_ value.
  afterEach(async () => {
    await p?.assertNoLeaks();
  });
  before(async () => {
    p = await FaultProject.create(FILES, { engine: 'pglite' });
  });
  after(async () => {
    await p?.cleanup();
  });

  it('records the interrupted node and retry rebuilds it and what follows', async () => {
    const first = await p.cli('run', [], { FLT_VERSION: '1' });
    assert.equal(first.code, 0, first.output);

    const run = p.start('run', [], { FLT_VERSION: '2', FLT_SLEEP: '60' });
    // The record itself says when slow is running (written as the node starts).
    await until(
      'run_results.json to show slow running',
      async () => {
        const rr = record(p);
        return rr.args.invocation_unfinished === true && byName(rr.results).slow?.status === 'error';
      },
      60000,
    );
    run.child.kill('SIGKILL');
    assert.equal((await run.done).signal, 'SIGKILL');

    const by = byName(record(p).results);
    assert.deepEqual([by.base.status, by.slow.status, by.after_slow.status], ['success', 'error', 'skipped']);
    const retry = await p.cli('retry', [], { FLT_VERSION: '2', FLT_SLEEP: '0' });
    assert.equal(retry.code, 0, retry.output);
    assert.match(retry.stdout, /Retrying 2 nodes from the last 'run' \(it did not finish/);
    assert.deepEqual(await p.rows(`select version from ${p.schema}.base`), [{ version: 2 }]);
    assert.deepEqual(await p.rows(`select version from ${p.schema}.slow`), [{ version: 2 }]);
    assert.deepEqual(await p.rows(`select version from ${p.schema}.after_slow`), [{ version: 2 }]);
    assert.equal(p.json('target/run_results.json').args.invocation_unfinished, undefined);
  });
});
