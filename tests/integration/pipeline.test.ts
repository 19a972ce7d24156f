/**
 * Issue 3, the CI gate end to end on both engines (tests/fixtures/pipeline_gate):
 * a change that breaks a key's uniqueness makes `tsdbt build` exit 1, skips the
 * downstream marts (their tables unchanged), writes run_results.json and a JUnit
 * file naming the failing test, prints a GitHub annotation; `tsdbt retry` after the
 * data is fixed re-runs only what errored or was skipped; `--state` with
 * `state:modified+` picks a changed model and its children.
 */
import { it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { describeEngines, Project, fixture, type CliResult } from './harness.ts';

const FILES = fixture('pipeline_gate');

interface Result {
  unique_id: string;
  status: string;
  failures: number | null;
  message: string | null;
}

await describeEngines('CI gate', (engine) => {
  let p: Project;
  /** name → status from the last run_results.json. */
  const statuses = (): Record<string, string> => {
    const manifest = p.json('target/manifest.json');
    const results = p.json('target/run_results.json').results as Result[];
    return Object.fromEntries(results.map((r) => [manifest.nodes[r.unique_id]?.name ?? r.unique_id, r.status]));
  };
  const marts = async () => ({
    user_activity: await p.rows('select * from user_activity order by user_id'),
    totals: await p.rows('select * from totals'),
  });

  before(async () => {
    p = await Project.create(engine, FILES);
  });
  after(async () => {
    await p?.cleanup();
  });

  it('a clean build passes', async () => {
    const r = await p.cli('build');
    assert.equal(r.code, 0, r.output);
    assert.deepEqual(await p.rows('select * from totals'), [{ users: 3, events: 6, purchases: 3 }]);
  });

  let broken: CliResult;
  let martsBefore: Awaited<ReturnType<typeof marts>>;
  it('a duplicate key: build exits 1, marts skipped and unchanged, JUnit names the test, GitHub annotation', async () => {
    martsBefore = await marts();
    // A new user 4, and a second row for user 2: the staging key is no longer unique.
    p.append('seeds/raw_users.csv', '4,dee@example.com\n2,bob.other@example.com\n');
    p.append('seeds/raw_events.csv', '7,4,purchase\n');
    broken = await p.cli('build', ['--junit', 'reports/junit.xml'], { GITHUB_ACTIONS: 'true' });
    assert.equal(broken.code, 1, broken.output);
    assert.deepEqual(statuses(), {
      raw_users: 'success',
      raw_events: 'success',
      stg_users: 'success',
      stg_events: 'success',
      unique_stg_users_user_id: 'fail',
      not_null_stg_users_user_id: 'pass',
      unique_stg_events_event_id: 'pass',
      user_activity: 'skipped',
      totals: 'skipped',
      event_kinds: 'success', // an independent branch still builds
    });
    assert.deepEqual(await marts(), martsBefore, 'the skipped marts keep their previous rows');
    assert.deepEqual(await p.rows("select kind, n from event_kinds where kind = 'purchase'"), [{ kind: 'purchase', n: 4 }]);
    assert.match(broken.stdout, /SKIP=2/);

    const failing = (p.json('target/run_results.json').results as Result[]).find((r) => r.status === 'fail')!;
    assert.equal(failing.failures, 1);

    const xml = readFileSync(join(p.dir, 'reports/junit.xml'), 'utf8');
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(xml);
    const cases = [doc.testsuites?.testsuite ?? doc.testsuite].flat().flatMap((s: { testcase: unknown }) => [s.testcase].flat()) as Record<string, unknown>[];
    assert.equal(cases.length, 10, xml);
    const failed = cases.filter((c) => c.failure !== undefined);
    assert.deepEqual(failed.map((c) => c.name), ['unique_stg_users_user_id'], xml);
    assert.match(JSON.stringify(failed[0].failure), /1/);
    assert.equal(cases.filter((c) => c.skipped !== undefined).length, 2);
  });

  it('the GitHub annotation and the console output for the failing test', () => {
    const annotation = broken.stdout.split('\n').find((l) => l.startsWith('::error '));
    assert.ok(annotation, broken.output);
    assert.match(annotation, /^::error file=models\/staging\/schema\.yml,line=\d+,/);
    assert.match(annotation, /unique_stg_users_user_id/);
    const at = broken.stdout.indexOf('FAIL 1 unique_stg_users_user_id');
    assert.ok(at >= 0, broken.output);
    const block = broken.stdout.slice(at).split('\n').slice(0, 8).join('\n');
    assert.match(block, /models\/staging\/schema\.yml/);
    assert.match(block, /compiled SQL: target\/compiled\/gate\/models\/staging\/schema\.yml\/unique_stg_users_user_id\.sql/);
    assert.match(block, /unique_field \| n_records/);
    assert.match(block, /^\s+2 \|\s+2$/m);
  });

  it('tsdbt retry, once the data is fixed, re-runs only the failed and skipped nodes', async () => {
    // The raw data is fixed where it lives (the duplicate row removed); retry does not reload seeds.
    await p.query(`delete from ${p.schema}.raw_users where email = 'bob.other@example.com'`);
    const r = await p.cli('retry');
    assert.equal(r.code, 0, r.output);
    assert.deepEqual(statuses(), { unique_stg_users_user_id: 'pass', user_activity: 'success', totals: 'success' });
    assert.deepEqual(await p.rows('select * from totals'), [{ users: 4, events: 7, purchases: 4 }]);
    const again = await p.cli('retry');
    assert.equal(again.code, 0, again.output);
    assert.match(again.output, /Nothing to retry/);
  });

  it('--state with --select state:modified+ picks only a changed model and its children', async () => {
    // The state of "production" is the project as it is now (seeds included: a changed CSV is a modified seed).
    cpSync(join(p.dir, 'target'), join(p.dir, 'prod-state'), { recursive: true });
    p.write({ 'models/staging/stg_users.sql': "select user_id, lower(trim(email)) as email from {{ ref('raw_users') }}\n" });
    const r = await p.cli('run', ['--select', 'state:modified+', '--state', 'prod-state']);
    assert.equal(r.code, 0, r.output);
    assert.deepEqual(statuses(), { stg_users: 'success', user_activity: 'success', totals: 'success' });
    const b = await p.cli('build', ['--select', 'state:modified+', '--state', 'prod-state']);
    assert.equal(b.code, 0, b.output);
    assert.deepEqual(Object.keys(statuses()).sort(), ['not_null_stg_users_user_id', 'stg_users', 'totals', 'unique_stg_users_user_id', 'user_activity']);
    p.write({ 'models/marts/brand_new.sql': "select 1 as x\n" });
    const ls = await p.cli('ls', ['--select', 'state:new', '--state', 'prod-state', '--output', 'name']);
    assert.equal(ls.code, 0, ls.output);
    assert.deepEqual(ls.stdout.trim().split('\n'), ['brand_new']);
  });
});
