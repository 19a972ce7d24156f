/**
 * Issue 13, "The console": the logging flags as dbt's (core/dbt/cli/params.py) — `--log-format json`
 * (one event per line, dbt's `{"info": {name, level, msg, ts, invocation_id, …}, "data": {…}}`),
 * `logs/dbt.log` written on every invocation at debug level in dbt's debug format, `--log-path` /
 * DBT_LOG_PATH, `--log-format-file json`, `--quiet` / `-q` / DBT_QUIET (errors and print() only),
 * `--log-level`; the heartbeat of a long node, the parse/compile progress line, a real terminal
 * (`script` gives the CLI a pseudo-TTY 60 columns wide); dbt.log rotated as dbt's
 * RotatingFileHandler (10 MB × 5); no secret in any log.
 */
import { it, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeEngines, Project, projectYml, REPO_ROOT, type Files } from './harness.ts';
import { RotatingLogFile, resolveLogOptions } from '../../src/cli/logging.ts';

const FILES: Files = {
  'dbt_project.yml': projectYml('clog'),
  'models/dim_user.sql': "{{ config(materialized='table') }}\nselect 1 as user_id union all select 2\n",
  'models/v_user.sql': "select * from {{ ref('dim_user') }}\n{{ print('hello from print()') }}\n",
  'models/schema.yml':
    'version: 2\nmodels:\n  - name: dim_user\n    columns:\n      - name: user_id\n        data_tests:\n          - unique\n          - accepted_values:\n              values: [1]\n              config: {severity: warn}\n',
};

interface JsonEvent {
  info: { name: string; level: string; msg: string; ts: string; invocation_id: string; code: string; thread: string; pid: number };
  data: Record<string, any>;
}

const parseLines = (text: string): JsonEvent[] =>
  text
    .split('\n')
    .filter((l) => l.trim())
    .map((l, i) => {
      try {
        return JSON.parse(l) as JsonEvent;
      } catch {
        throw new Error(`line ${i + 1} is not JSON: ${l}`);
      }
    });

await describeEngines('logging flags and logs/dbt.log', (engine) => {
  let p: Project;
  before(async () => {
    p = await Project.create(engine, FILES, { threads: 1 });
  });
  after(async () => p?.cleanup());

  it('--log-format json: every stdout line is one dbt event, with dbt\'s names and fields, and the run\'s invocation_id', async () => {
    const r = await p.cli('build', ['--log-format', 'json']);
    assert.equal(r.code, 0, r.output);
    const events = parseLines(r.stdout);
    const names = events.map((e) => e.info.name);
    for (const n of ['MainReportVersion', 'FoundStats', 'ConcurrencyLine', 'LogStartLine', 'LogModelResult', 'LogTestResult', 'FinishedRunningStats', 'EndOfRunSummary', 'StatsLine']) {
      assert.ok(names.includes(n), `${n} in ${names.join(' ')}`);
    }
    const invocation = p.json('target/run_results.json').metadata.invocation_id;
    assert.ok(events.every((e) => e.info.invocation_id === invocation), 'one invocation id, run_results.json\'s');
    assert.ok(events.every((e) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/.test(e.info.ts)), 'dbt\'s ts');
    const model = events.find((e) => e.info.name === 'LogModelResult' && e.data.node_info.unique_id === 'model.clog.dim_user')!;
    assert.equal(model.info.level, 'info');
    assert.equal(model.info.code, 'Q012');
    assert.match(model.info.msg, /^1 of 4 OK created sql table model \S+\.dim_user \.+ \[SELECT 2 in \d+\.\d\ds\]$/);
    assert.equal(model.data.index, 1);
    assert.equal(model.data.total, 4);
    assert.equal(typeof model.data.execution_time, 'number');
    assert.equal(model.data.node_info.resource_type, 'model');
    assert.equal(model.data.node_info.materialized, 'table');
    const warned = events.find((e) => e.info.name === 'LogTestResult' && e.data.status === 'warn')!;
    assert.equal(warned.info.level, 'warn');
    assert.equal(warned.data.num_failures, 1);
    const stats = events.find((e) => e.info.name === 'StatsLine')!;
    assert.deepEqual(stats.data.stats, { pass: 3, warn: 1, error: 0, skip: 0, noop: 0, total: 4 });
    assert.ok(events.some((e) => e.info.name === 'PrintEvent' && e.info.msg === 'hello from print()'), 'print() is an event too');
    assert.ok(!/\x1b/.test(r.stdout), 'no colour codes in JSON');
  });

  it('logs/dbt.log is written on every invocation, at debug level, in dbt\'s debug format', async () => {
    rmSync(join(p.dir, 'logs'), { recursive: true, force: true });
    const r = await p.cli('run', ['--select', 'dim_user']);
    assert.equal(r.code, 0, r.output);
    const log = p.read('logs/dbt.log');
    assert.ok(log, 'logs/dbt.log exists after a run');
    const invocation = p.json('target/run_results.json').metadata.invocation_id;
    assert.match(log, new RegExp(`^={30} \\d\\d:\\d\\d:\\d\\d\\.\\d{6} \\| ${invocation} ={30}$`, 'm'));
    assert.match(log, /^\d\d:\d\d:\d\d\.\d{6} \[debug\] \[MainThread\]: running tsdbt with arguments \{/m);
    assert.match(log, /^\d\d:\d\d:\d\d\.\d{6} \[info \] \[MainThread\]: 1 of 1 START sql table model \S+\.dim_user \.+ \[RUN\]$/m);
    assert.match(log, /\[debug\] \[MainThread\]: Command `tsdbt run` succeeded at /);
    // Another command (ls) appends its own invocation.
    const ls = await p.cli('ls');
    assert.equal(ls.code, 0, ls.output);
    assert.equal(p.read('logs/dbt.log')!.match(/^={30} /gm)!.length, 2);
    assert.ok(!p.read('logs/dbt.log')!.includes('\x1b'), 'no colour codes in the file');
  });

  it('--log-path and DBT_LOG_PATH choose the directory (the flag wins); --log-format-file json writes JSON lines', async () => {
    const a = mkdtempSync(join(tmpdir(), 'tsdbt-logpath-a-'));
    const b = mkdtempSync(join(tmpdir(), 'tsdbt-logpath-b-'));
    try {
      let r = await p.cli('run', ['--select', 'dim_user', '--log-format-file', 'json'], { DBT_LOG_PATH: a });
      assert.equal(r.code, 0, r.output);
      const events = parseLines(readFileSync(join(a, 'dbt.log'), 'utf8'));
      assert.ok(events.some((e) => e.info.name === 'MainReportArgs' && e.info.level === 'debug'));
      assert.ok(events.some((e) => e.info.name === 'LogModelResult'));
      r = await p.cli('run', ['--select', 'dim_user', '--log-path', b], { DBT_LOG_PATH: a });
      assert.equal(r.code, 0, r.output);
      assert.ok(existsSync(join(b, 'dbt.log')), 'the flag wins');
      assert.match(r.stdout, /Done\. PASS=1/, 'the console is text unless asked');
    } finally {
      rmSync(a, { recursive: true, force: true });
      rmSync(b, { recursive: true, force: true });
    }
  });

  it('--quiet / -q / DBT_QUIET: only errors and print() output; --log-level warn: warnings and errors', async () => {
    let r = await p.cli('build', ['-q']);
    assert.equal(r.code, 0, r.output);
    assert.equal(r.stdout, 'hello from print()\n', 'print() only');
    r = await p.cli('-q build');
    assert.equal(r.stdout, 'hello from print()\n', 'as a global flag before the command');
    r = await p.cli('build', [], { DBT_QUIET: 'true' });
    assert.equal(r.stdout, 'hello from print()\n', 'DBT_QUIET');
    r = await p.cli('build', ['--log-level', 'warn']);
    assert.doesNotMatch(r.stdout, /START|Done\./);
    assert.match(r.stdout, /^\d\d:\d\d:\d\d  \d of 4 WARN 1 accepted_values_dim_user_user_id__1 \.+ \[WARN 1 in/m);
    assert.match(r.stdout, /^\d\d:\d\d:\d\d  Warning in test accepted_values_dim_user_user_id__1 \(models\/schema\.yml\)$/m);
    // A failure: the ERROR line and dbt's recap, nothing else.
    p.write({ 'models/broken.sql': 'select * from no_such_table\n' });
    try {
      r = await p.cli('run', ['--quiet']);
      assert.equal(r.code, 1, r.output);
      const lines = r.stdout.trim().split('\n').filter((l) => l !== 'hello from print()');
      assert.match(lines[0], /^\d\d:\d\d:\d\d  \d of 3 ERROR creating sql view model \S+\.broken \.+ \[ERROR in/);
      assert.match(r.stdout, /^\d\d:\d\d:\d\d  Failure in model broken \(models\/broken\.sql\)$/m);
      assert.doesNotMatch(r.stdout, /START|OK created|Done\.|compiled code at/);
    } finally {
      p.write({ 'models/broken.sql': null });
    }
  });

  it('a progress line while parsing and compiling (TSDBT_PROGRESS_MIN lowers the size that counts as large)', async () => {
    const r = await p.cli('run', [], { TSDBT_PROGRESS_MIN: '1' });
    assert.equal(r.code, 0, r.output);
    // Off a terminal on stderr, so stdout stays data for `ls` / `compile` / `show`.
    assert.match(r.stderr, /^\d\d:\d\d:\d\d  files parsed: 0 of \d+$/m);
    assert.match(r.stderr, /^\d\d:\d\d:\d\d  nodes rendered: 1 of \d+$/m);
    assert.doesNotMatch(r.stdout, /files parsed|nodes rendered/);
    // Off a terminal at most one line per phase every few seconds: no flood.
    assert.ok(r.stderr.match(/nodes rendered/g)!.length <= 2, r.stderr);
    const quiet = await p.cli('run', []);
    assert.doesNotMatch(quiet.output, /files parsed|nodes rendered/, 'a small project parses in silence');
  });

  it('on a terminal (a 60-column pseudo-TTY): colours, the status brackets in one column, no line wider than the terminal, the progress line redrawn in place', { skip: spawnSync('script', ['--version']).status !== 0 && 'no script(1)' }, () => {
    const argv = [process.execPath, join(REPO_ROOT, 'bin', 'tsdbt.mjs'), 'build', '--project-dir', p.dir, '--profiles-dir', p.dir].map((a) => `'${a}'`).join(' ');
    const env = { ...process.env };
    for (const k of ['NO_COLOR', 'FORCE_COLOR', 'GITHUB_ACTIONS', 'DBT_PROFILES_DIR']) delete env[k];
    const r = spawnSync('script', ['-qec', `stty cols 60 rows 50; ${argv}`, '/dev/null'], { cwd: p.dir, env: { ...env, TSDBT_PROGRESS_MIN: '1' }, encoding: 'utf8', timeout: 300_000 });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    // The progress line is drawn in place and erased (carriage return + erase line), never left in the log.
    assert.match(r.stdout, /nodes rendered: \d+ of \d+(?:\x1b\[\d+m)?\r\x1b\[2K/);
    const text = r.stdout.replace(/\r/g, '');
    assert.match(text, /\x1b\[3[123]m/, 'coloured');
    const plain = text.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '');
    const runLines = plain.split('\n').filter((l) => /^\d\d:\d\d:\d\d  \d+ of \d+ .*\.{3,} \[/.test(l));
    assert.equal(runLines.length, 8, plain);
    assert.equal(new Set(runLines.map((l) => l.indexOf(' ['))).size, 1, runLines.join('\n'));
    for (const l of runLines) assert.ok(l.length <= 60, `fits: ${l}`);
  });

  it('a heartbeat with the elapsed time for a node that runs long (TSDBT_HEARTBEAT_SECONDS)', { skip: engine.name === 'pglite' && 'PGlite runs a statement on the event loop, so no timer fires during it: no heartbeat on the embedded database' }, async () => {
    p.write({ 'models/slow.sql': "{{ config(materialized='table') }}\nselect 1 as x from (select pg_sleep(2.5)) s\n" });
    try {
      const r = await p.cli('run', ['--select', 'slow'], { TSDBT_HEARTBEAT_SECONDS: '1' });
      assert.equal(r.code, 0, r.output);
      assert.match(r.stdout, /^\d\d:\d\d:\d\d  1 of 1 STILL RUNNING sql table model \S+\.slow \.+ \[RUN for [12]s\]$/m);
    } finally {
      p.write({ 'models/slow.sql': null });
    }
  });

  it('no secret in dbt.log or the JSON log: the profile password never appears', { skip: engine.name === 'pglite' && 'a PGlite target has no password' }, async () => {
    const secret = 'Sup3r-S3cret-Pw-77';
    p.writeProfile({ password: secret }); // trust auth accepts any password
    try {
      rmSync(join(p.dir, 'logs'), { recursive: true, force: true });
      const r = await p.cli('run', ['--select', 'dim_user', '--log-format', 'json', '--debug']);
      assert.equal(r.code, 0, r.output);
      assert.ok(!r.output.includes(secret));
      assert.ok(!p.read('logs/dbt.log')!.includes(secret));
    } finally {
      p.writeProfile();
    }
  });
});

describe('dbt.log rotation and option resolution', () => {
  it('rotates as RotatingFileHandler: dbt.log → dbt.log.1 … dbt.log.5, the oldest dropped, no file over the limit', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsdbt-rotate-'));
    try {
      const f = new RotatingLogFile(join(dir, 'dbt.log'), 100, 5);
      for (let i = 0; i < 40; i++) f.write(`line ${String(i).padStart(2, '0')} ${'x'.repeat(30)}`);
      f.close();
      assert.deepEqual(readdirSync(dir).sort(), ['dbt.log', 'dbt.log.1', 'dbt.log.2', 'dbt.log.3', 'dbt.log.4', 'dbt.log.5']);
      for (const name of readdirSync(dir)) assert.ok(statSync(join(dir, name)).size <= 100, name);
      assert.match(readFileSync(join(dir, 'dbt.log'), 'utf8'), /line 39/);
      assert.match(readFileSync(join(dir, 'dbt.log.1'), 'utf8'), /line 3[67]/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('flags win over DBT_* variables; --quiet means error level; a bad level is a usage error', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'tsdbt-logopt-'));
    try {
      assert.equal(resolveLogOptions({}, { DBT_LOG_LEVEL: 'warn' }, cwd).level, 'warn');
      assert.equal(resolveLogOptions({ logLevel: 'debug' }, { DBT_LOG_LEVEL: 'warn' }, cwd).level, 'debug');
      assert.equal(resolveLogOptions({}, { DBT_QUIET: 'true' }, cwd).level, 'error');
      assert.equal(resolveLogOptions({ quiet: true }, {}, cwd).quiet, true);
      assert.equal(resolveLogOptions({}, { DBT_LOG_FORMAT: 'json' }, cwd).format, 'json');
      assert.equal(resolveLogOptions({ logFormat: 'text' }, { DBT_LOG_FORMAT: 'json' }, cwd).format, 'text');
      assert.equal(resolveLogOptions({}, {}, cwd).path, null, 'no dbt_project.yml, no --log-path: no log file');
      assert.equal(resolveLogOptions({}, { DBT_LOG_PATH: 'here' }, cwd).path, join(cwd, 'here'));
      assert.throws(() => resolveLogOptions({ logLevel: 'loud' }, {}, cwd), /--log-level must be one of debug, info, warn, error, none/);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });
});
