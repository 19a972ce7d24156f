/**
 * The unchanged-invocation replay (unchanged.ts) and partial parsing against
 * a cold parse: `tsdbt compile` run in-process through main().
 *  - an identical compile with nothing changed is replayed: same console
 *    lines, manifest.json / lineage.json with a new invocation id and the
 *    same nodes, compiled files untouched;
 *  - every input the brief names (a model, a macro, schema.yml, --vars, an
 *    env var the project reads, dbt_project.yml, profiles.yml, a new file, a
 *    removed compiled file, an artifact rewritten by another command) makes
 *    it compile in full, with the reason;
 *  - after each such edit, the partial-parse compile gives the same manifest
 *    nodes and compiled SQL as a cold compile (no target/), on a generated
 *    project and on the example project at the repository root.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, existsSync, unlinkSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { main } from '../cli/main.ts';
import { tryUnchanged } from '../cli/fast-entry.ts';
import { compactProgress, findUnchanged, patchMetadata, targetDirOf, UNCHANGED_FILE, type ConsoleEvent } from './unchanged.ts';
import { generateProject } from '../../bench/generate-project.ts';

const BUILD = 'test-build';
const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

function profiles(dir: string, schema: string): void {
  writeFileSync(join(dir, 'profiles.yml'), `bench:\n  target: pg\n  outputs:\n    pg:\n      type: postgres\n      host: 127.0.0.1\n      port: 5432\n      user: postgres\n      dbname: test\n      schema: ${schema}\n      threads: 1\n`);
}

function argvFor(dir: string, extra: string[] = []): string[] {
  return ['node', 'tsdbt', 'compile', '--project-dir', dir, '--profiles-dir', dir, '--quiet', ...extra];
}

/** Runs `tsdbt compile` in-process, recording for replay when `record`. */
async function compile(dir: string, extra: string[] = [], record = true): Promise<number> {
  const g = globalThis as { __tsdbtBuildId?: string; __tsdbtNotReplayed?: string };
  if (record) g.__tsdbtBuildId = BUILD;
  else delete g.__tsdbtBuildId;
  delete g.__tsdbtNotReplayed;
  try {
    return await main(argvFor(dir, extra));
  } finally {
    delete g.__tsdbtBuildId;
  }
}

function find(dir: string, extra: string[] = []) {
  return findUnchanged({ buildId: BUILD, argv: argvFor(dir, extra), cwd: process.cwd(), tty: [!!process.stdout.isTTY, !!process.stderr.isTTY] });
}

/** Inputs written less than 100 ms before an invocation are racy (not recorded): wait them out. */
const settle = () => sleep(150);

function manifest(dir: string, targetPath = 'target'): { metadata: Record<string, unknown>; nodes: Record<string, Record<string, unknown>> } {
  return JSON.parse(readFileSync(join(dir, targetPath, 'manifest.json'), 'utf8'));
}

/** Manifest nodes without what differs between invocations or target paths. */
function comparableNodes(dir: string, targetPath = 'target'): unknown {
  const m = manifest(dir, targetPath);
  return JSON.parse(JSON.stringify(m.nodes, (k, v) => (k === 'created_at' ? undefined : k === 'compiled_path' && typeof v === 'string' ? v.replace(`${targetPath}/`, 'T/') : v)));
}

function compiledFiles(dir: string, targetPath = 'target'): Record<string, string> {
  const out: Record<string, string> = {};
  const root = join(dir, targetPath, 'compiled');
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else out[relative(root, join(d, e.name))] = readFileSync(join(d, e.name), 'utf8');
    }
  };
  if (existsSync(root)) walk(root);
  return out;
}

/** The partial-parse compile (target/) equals a cold compile into another target path with partial parsing off. */
async function assertSameAsCold(dir: string, extra: string[] = [], what = ''): Promise<void> {
  assert.equal(await compile(dir, extra, false), 0, `partial compile ${what}`);
  rmSync(join(dir, 'cold'), { recursive: true, force: true });
  process.env.DBT_PARTIAL_PARSE = 'false';
  try {
    assert.equal(await compile(dir, [...extra, '--target-path', 'cold'], false), 0, `cold compile ${what}`);
  } finally {
    delete process.env.DBT_PARTIAL_PARSE;
  }
  assert.deepEqual(comparableNodes(dir), comparableNodes(dir, 'cold'), `manifest nodes after ${what}`);
  // A removed model's old compiled file stays in target/compiled (as with dbt): compare the files the cold compile wrote.
  const cold = compiledFiles(dir, 'cold');
  const warm = compiledFiles(dir);
  assert.deepEqual(Object.fromEntries(Object.keys(cold).map((k) => [k, warm[k]])), cold, `compiled SQL after ${what}`);
}

test('an identical compile with nothing changed is replayed; every input change compiles in full', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsdbt-unchanged-'));
  try {
    generateProject(dir, 60);
    profiles(dir, 'unchanged_replay');
    writeFileSync(join(dir, 'models', 'layer_0', 'm_env.sql'), "select {{ env_var('UNCHANGED_TEST_ENV', 'd') }} as x, '{{ var('v', 'dv') }}' as v\n");
    writeFileSync(join(dir, 'macros.sql'), ''); // a top-level file: part of the inputs
    await settle();
    assert.equal(await compile(dir), 0);
    assert.ok(existsSync(join(dir, 'target', UNCHANGED_FILE)), 'recorded');
    const before = manifest(dir);
    const compiledStat = statSync(join(dir, 'target', 'compiled', 'bench', 'models', 'layer_0', 'm_1.sql'));
    const hit = find(dir);
    assert.equal(typeof hit, 'object', String(hit));

    // The replay: manifest.json keeps its nodes, with a new invocation id and time; compiled files untouched.
    assert.equal(tryUnchanged(argvFor(dir), BUILD), 0);
    const after = manifest(dir);
    assert.notEqual(after.metadata.invocation_id, before.metadata.invocation_id);
    assert.match(String(after.metadata.generated_at), /^\d{4}-\d\d-\d\dT/);
    assert.deepEqual(after.nodes, before.nodes);
    const lineage = JSON.parse(readFileSync(join(dir, 'target', 'lineage.json'), 'utf8'));
    assert.equal(lineage.metadata.invocation_id, after.metadata.invocation_id);
    assert.equal(statSync(join(dir, 'target', 'compiled', 'bench', 'models', 'layer_0', 'm_1.sql')).mtimeMs, compiledStat.mtimeMs);
    // Replayed again: the stamp follows the patched artifacts.
    assert.equal(typeof find(dir), 'object');

    const misses: [string, () => void | Promise<void>, RegExp, string[]?][] = [
      ['a model edited', () => writeFileSync(join(dir, 'models', 'layer_0', 'm_1.sql'), readFileSync(join(dir, 'models', 'layer_0', 'm_1.sql'), 'utf8') + '-- edit\n'), /m_1\.sql/],
      ['a model touched', () => utimesSync(join(dir, 'models', 'layer_0', 'm_2.sql'), new Date(), new Date(Date.now() - 5000)), /m_2\.sql/],
      ['a file added', () => writeFileSync(join(dir, 'models', 'layer_0', 'm_new.sql'), 'select 1 as id\n'), /m_new\.sql|was added/],
      ['schema.yml edited', () => writeFileSync(join(dir, 'models', 'schema.yml'), readFileSync(join(dir, 'models', 'schema.yml'), 'utf8') + '\n'), /schema\.yml/],
      ['dbt_project.yml edited', () => writeFileSync(join(dir, 'dbt_project.yml'), readFileSync(join(dir, 'dbt_project.yml'), 'utf8') + '\n'), /dbt_project\.yml/],
      ['profiles.yml edited', () => writeFileSync(join(dir, 'profiles.yml'), readFileSync(join(dir, 'profiles.yml'), 'utf8') + '\n'), /profiles\.yml/],
      ['an env var the project reads', () => void (process.env.UNCHANGED_TEST_ENV = '7'), /environment variable/],
      ['other --vars', () => undefined, /command line/, ['--vars', '{v: 2}']],
      ['a compiled file removed', () => unlinkSync(join(dir, 'target', 'compiled', 'bench', 'models', 'layer_0', 'm_3.sql')), /m_3\.sql was removed/],
      ['manifest.json rewritten by another command', () => writeFileSync(join(dir, 'target', 'manifest.json'), readFileSync(join(dir, 'target', 'manifest.json'), 'utf8') + ' '), /manifest\.json/],
    ];
    for (const [what, change, reason, extra] of misses) {
      await change();
      const miss = find(dir, extra);
      assert.equal(typeof miss, 'string', `${what}: expected a full compile`);
      assert.match(String(miss), reason, what);
      assert.equal(tryUnchanged(argvFor(dir, extra), BUILD), null, what);
      // The full compile after the change records again (once the change is not racy) and gives what a cold compile gives.
      await settle();
      await assertSameAsCold(dir, extra, what);
      assert.equal(await compile(dir, extra), 0, what);
      assert.equal(typeof find(dir, extra), 'object', `${what}: replayable again`);
      // Back to the plain command line and environment for the next case.
      delete process.env.UNCHANGED_TEST_ENV;
      assert.equal(await compile(dir), 0, what);
      assert.equal(typeof find(dir), 'object', `${what}: replayable`);
    }
    // The env var's value reached the compiled SQL.
    process.env.UNCHANGED_TEST_ENV = '7';
    assert.equal(await compile(dir), 0);
    assert.match(readFileSync(join(dir, 'target', 'compiled', 'bench', 'models', 'layer_0', 'm_env.sql'), 'utf8'), /select 7 as x/);
    delete process.env.UNCHANGED_TEST_ENV;
  } finally {
    delete process.env.UNCHANGED_TEST_ENV;
    rmSync(dir, { recursive: true, force: true });
  }
});

test('partial parsing after each kind of edit gives the cold parse: generated project', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsdbt-unchanged-gen-'));
  try {
    generateProject(dir, 120);
    profiles(dir, 'unchanged_gen');
    writeFileSync(join(dir, 'models', 'layer_0', 'm_env.sql'), "select {{ env_var('UNCHANGED_GEN_ENV', 'd') }} as x, {{ shout('a') }} as y, '{{ var('v', 'dv') }}' as v\n");
    cpSync(join(repo, 'macros', 'channel_for.sql'), join(dir, 'macros', 'channel_for.sql'));
    writeFileSync(join(dir, 'macros', 'shout.sql'), "{% macro shout(x) %}upper('{{ x }}'){% endmacro %}\n");
    await settle();
    assert.equal(await compile(dir, [], false), 0);
    const edits: [string, () => void, string[]?][] = [
      ['model SQL', () => writeFileSync(join(dir, 'models', 'layer_0', 'm_5.sql'), "{{ config(materialized='table') }}\nselect * from {{ ref('m_1') }}\n")],
      ['a macro', () => writeFileSync(join(dir, 'macros', 'shout.sql'), "{% macro shout(x) %}lower('{{ x }}'){% endmacro %}\n")],
      ['schema.yml', () => writeFileSync(join(dir, 'models', 'schema.yml'), readFileSync(join(dir, 'models', 'schema.yml'), 'utf8').replace('description: model number 0', 'description: changed'))],
      ['a var', () => undefined, ['--vars', '{v: changed}']],
      ['an env var', () => void (process.env.UNCHANGED_GEN_ENV = '42')],
      ['dbt_project.yml', () => writeFileSync(join(dir, 'dbt_project.yml'), readFileSync(join(dir, 'dbt_project.yml'), 'utf8').replace('+materialized: view', '+materialized: table'))],
      ['a model removed', () => unlinkSync(join(dir, 'models', 'layer_0', 'm_env.sql'))],
    ];
    for (const [what, edit, extra] of edits) {
      edit();
      await settle();
      await assertSameAsCold(dir, extra, what);
    }
    assert.match(readFileSync(join(dir, 'target', 'compiled', 'bench', 'models', 'layer_0', 'm_5.sql'), 'utf8'), /m_1/);
  } finally {
    delete process.env.UNCHANGED_GEN_ENV;
    rmSync(dir, { recursive: true, force: true });
  }
});

test('partial parsing after each kind of edit gives the cold parse: the example project (an incremental model: never replayed)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsdbt-unchanged-ex-'));
  try {
    for (const p of ['dbt_project.yml', 'models', 'macros', 'seeds', join('tests', 'data_quality')]) cpSync(join(repo, p), join(dir, p), { recursive: true });
    writeFileSync(
      join(dir, 'profiles.yml'),
      'growth_analytics:\n  target: pg\n  outputs:\n    pg:\n      type: postgres\n      host: 127.0.0.1\n      port: 5432\n      user: postgres\n      dbname: test\n      schema: unchanged_example\n      threads: 1\n',
    );
    await settle();
    assert.equal(await compile(dir), 0);
    assert.equal(existsSync(join(dir, 'target', UNCHANGED_FILE)), false, 'a project whose compile asks the database is not recorded');
    const staging = join(dir, 'models', 'staging', 'stg_sessions.sql');
    const edits: [string, () => void, string[]?][] = [
      ['model SQL', () => writeFileSync(staging, readFileSync(staging, 'utf8') + '\n-- edited\n')],
      ['a macro', () => writeFileSync(join(dir, 'macros', 'channel_for.sql'), readFileSync(join(dir, 'macros', 'channel_for.sql'), 'utf8') + '\n{# edited #}\n')],
      ['schema.yml', () => writeFileSync(join(dir, 'models', 'staging', '_staging.yml'), readFileSync(join(dir, 'models', 'staging', '_staging.yml'), 'utf8') + '\n')],
      ['a var', () => undefined, ['--vars', '{grants_enabled: true}']],
      ['dbt_project.yml', () => writeFileSync(join(dir, 'dbt_project.yml'), readFileSync(join(dir, 'dbt_project.yml'), 'utf8').replace("+tags: ['daily_report']", "+tags: ['daily_report', 'edited']"))],
    ];
    for (const [what, edit, extra] of edits) {
      edit();
      await settle();
      await assertSameAsCold(dir, extra, what);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a compile whose SQL depends on the clock or the invocation, or that reads --state, is not recorded', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsdbt-unchanged-time-'));
  try {
    generateProject(dir, 12);
    profiles(dir, 'unchanged_time');
    writeFileSync(join(dir, 'models', 'layer_0', 'm_time.sql'), "select '{{ run_started_at }}' as started\n");
    await settle();
    assert.equal(await compile(dir), 0);
    assert.equal(existsSync(join(dir, 'target', UNCHANGED_FILE)), false);
    assert.match(String(find(dir)), /no unchanged_invocation\.json/);
    unlinkSync(join(dir, 'models', 'layer_0', 'm_time.sql'));
    await settle();
    assert.equal(await compile(dir), 0);
    assert.equal(typeof find(dir), 'object');
    cpSync(join(dir, 'target'), join(dir, 'prod-state'), { recursive: true });
    assert.equal(await compile(dir, ['--state', join(dir, 'prod-state'), '--select', 'state:modified']), 0);
    assert.equal(existsSync(join(dir, 'target', UNCHANGED_FILE)), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the target folder is found without loading the project: flag, env var, a literal target-path, else none', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsdbt-unchanged-tp-'));
  try {
    writeFileSync(join(dir, 'dbt_project.yml'), 'name: x\ntarget-path: "build"  # here\n');
    assert.equal(targetDirOf(['n', 't', 'compile', '--project-dir', dir], '/', {}), join(dir, 'build'));
    assert.equal(targetDirOf(['n', 't', 'compile', '--project-dir', dir, '--target-path', 'elsewhere'], '/', {}), join(dir, 'elsewhere'));
    assert.equal(targetDirOf(['n', 't', 'compile'], dir, { DBT_TARGET_PATH: 't2' }), join(dir, 't2'));
    writeFileSync(join(dir, 'dbt_project.yml'), "name: x\ntarget-path: \"{{ env_var('T') }}\"\n");
    assert.equal(targetDirOf(['n', 't', 'compile', '--project-dir', dir], '/', {}), null);
    writeFileSync(join(dir, 'dbt_project.yml'), 'name: x\n');
    assert.equal(targetDirOf(['n', 't', 'compile', '--project-dir', dir], '/', {}), join(dir, 'target'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('metadata is patched in place (same length) or by rewriting the file; progress runs keep their first and last call', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsdbt-unchanged-patch-'));
  try {
    const f = join(dir, 'm.json');
    writeFileSync(f, JSON.stringify({ metadata: { generated_at: '2026-01-01T00:00:00.000Z', invocation_id: '00000000-0000-0000-0000-000000000000' }, nodes: { a: 1 } }));
    patchMetadata(f, '11111111-1111-1111-1111-111111111111', '2026-12-03T10:11:12.131Z');
    assert.deepEqual(JSON.parse(readFileSync(f, 'utf8')), { metadata: { generated_at: '2026-12-03T10:11:12.131Z', invocation_id: '11111111-1111-1111-1111-111111111111' }, nodes: { a: 1 } });
    patchMetadata(f, 'short', '2026-12-03T10:11:12Z');
    assert.deepEqual(JSON.parse(readFileSync(f, 'utf8')).metadata, { generated_at: '2026-12-03T10:11:12Z', invocation_id: 'short' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const ev: ConsoleEvent[] = [['progress', 'files', 0, 9], ['progress', 'files', 5, 9], ['progress', 'files', 9, 9], ['info', 'x'], ['progress', 'nodes', 1, 3], ['progress', 'nodes', 3, 3]];
  assert.deepEqual(compactProgress(ev), [['progress', 'files', 0, 9], ['progress', 'files', 9, 9], ['info', 'x'], ['progress', 'nodes', 1, 3], ['progress', 'nodes', 3, 3]]);
});
