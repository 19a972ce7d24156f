/**
 * Issue 13, "Environment and profiles": each flag's environment variable as dbt documents it
 * (dbt-core's cli/params.py `envvar=`), the flag winning over the variable; a mistyped target
 * is an error listing the targets; the run header says which target, where and which schema;
 * `tsdbt ls | head -1` exits 0 with nothing on stderr; NO_COLOR / DBT_USE_COLORS / --use-colors.
 */
import { it, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeEngines, Project, projectYml, REPO_ROOT, type Files } from './harness.ts';

const FILES: Files = {
  'dbt_project.yml': projectYml('envf', 'data_tests:\n  envf:\n    +severity: warn\n'),
  'models/a.sql': "{{ config(materialized='table') }}\nselect 1 as id union all select 1\n",
  'models/inc.sql': "{{ config(materialized='incremental') }}\nselect {{ var('n', 1) }} as n\n",
  'models/a.yml': 'version: 2\nmodels:\n  - name: a\n    columns:\n      - name: id\n        data_tests: [unique]\n',
};

/** A second output `other` (schema `<schema>_other`, dropped by cleanup) beside `dev`, and a second profile `alt`. */
function writeTwoTargets(p: Project): void {
  p.writeProfile();
  const text = p.read('profiles.yml')!;
  const dev = text.slice(text.indexOf('    dev:\n'));
  const other = dev.replace('    dev:\n', '    other:\n').replace(`schema: "${p.schema}"`, `schema: "${p.schema}_other"`);
  const alt = `alt:\n  target: dev\n  outputs:\n${dev.replace(`schema: "${p.schema}"`, `schema: "${p.schema}_alt"`)}`;
  writeFileSync(join(p.dir, 'profiles.yml'), `${text}${other}${alt}`);
}

await describeEngines('flags from environment variables', (engine) => {
  let p: Project;
  before(async () => {
    p = await Project.create(engine, FILES, { threads: 1 });
    writeTwoTargets(p);
  });
  after(async () => p?.cleanup());

  it('DBT_TARGET picks the target, and --target wins over it (dbt: the flag wins over its env var)', async () => {
    let r = await p.cli('run', ['--select', 'a'], { DBT_TARGET: 'other' });
    assert.equal(r.code, 0, r.output);
    assert.deepEqual(await p.rows(`select count(*)::int as n from "${p.schema}_other".a`), [{ n: 2 }]);
    assert.match(r.stdout, new RegExp(`Target other: \\w+ at .+, schema ${p.schema}_other$`, 'm'));
    assert.deepEqual(await p.relations(), {}, 'nothing was written to the dev schema');
    r = await p.cli('run', ['--select', 'a', '--target', 'dev'], { DBT_TARGET: 'other' });
    assert.equal(r.code, 0, r.output);
    assert.deepEqual(Object.keys(await p.relations()), ['a']);
  });

  it('the run header says which target, which database and which schema it writes', async () => {
    const r = await p.cli('run', ['--select', 'a']);
    assert.equal(r.code, 0, r.output);
    const where = engine.name === 'postgres' ? `${p.target.host}:${p.target.port}/${p.target.dbname}` : p.target.dataDir!;
    assert.ok(r.stdout.includes(`  Target dev: ${engine.name} at ${where}, schema ${p.schema}\n`), r.output);
    assert.match(r.stdout, /Concurrency: \d+ threads \(target='dev'\)/);
    assert.ok(!/password|postgres@/.test(r.stdout.split('\n').find((l) => l.includes('Target dev'))!), 'no user or password in the header');
  });

  it('DBT_PROFILE picks the profile, as --profile', async () => {
    let r = await p.cli('run', ['--select', 'a'], { DBT_PROFILE: 'alt' });
    assert.equal(r.code, 0, r.output);
    assert.deepEqual(await p.rows(`select count(*)::int as n from "${p.schema}_alt".a`), [{ n: 2 }]);
    r = await p.cli('run', ['--select', 'a', '--profile', 'nope']);
    assert.equal(r.code, 2, r.output);
    assert.match(r.stderr, /profile 'nope' not found/);
  });

  it('DBT_WARN_ERROR=true turns the warning of a severity: warn test into an error (exit 1); false leaves it a warning', async () => {
    let r = await p.cli('build', ['--select', 'a'], { DBT_WARN_ERROR: 'true' });
    assert.equal(r.code, 1, r.output);
    r = await p.cli('build', ['--select', 'a'], { DBT_WARN_ERROR: 'false' });
    assert.equal(r.code, 0, r.output);
    assert.match(r.stdout, /WARN=1/);
  });

  it('DBT_FULL_REFRESH=1 rebuilds an incremental model instead of appending', async () => {
    let r = await p.cli('run', ['--select', 'inc', '--vars', '{n: 1}']);
    assert.equal(r.code, 0, r.output);
    r = await p.cli('run', ['--select', 'inc', '--vars', '{n: 2}']);
    assert.deepEqual(await p.rows('select n from inc order by n'), [{ n: 1 }, { n: 2 }]);
    r = await p.cli('run', ['--select', 'inc', '--vars', '{n: 3}'], { DBT_FULL_REFRESH: '1' });
    assert.equal(r.code, 0, r.output);
    assert.deepEqual(await p.rows('select n from inc order by n'), [{ n: 3 }]);
  });

  it('DBT_TARGET_PATH moves the artifacts, as --target-path', async () => {
    const r = await p.cli('run', ['--select', 'a'], { DBT_TARGET_PATH: 'elsewhere' });
    assert.equal(r.code, 0, r.output);
    assert.ok(existsSync(join(p.dir, 'elsewhere', 'run_results.json')));
    assert.equal(p.json('elsewhere/run_results.json').results[0].unique_id, 'model.envf.a');
  });

  it('a boolean variable that is not a boolean is a usage error naming it (exit 2)', async () => {
    const r = await p.cli('run', ['--select', 'a'], { DBT_FAIL_FAST: 'maybe' });
    assert.equal(r.code, 2, r.output);
    assert.match(r.stderr, /DBT_FAIL_FAST="maybe" is not a boolean/);
    assert.ok(!r.stderr.includes('    at '), 'no stack trace');
  });

  it('DBT_LOG_FORMAT=json prints one JSON event per line (dbt: the flag wins over the variable)', async () => {
    const r = await p.cli('run', ['--select', 'a'], { DBT_LOG_FORMAT: 'json' });
    assert.equal(r.code, 0, r.output);
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { info: { name: string } });
    assert.ok(events.some((e) => e.info.name === 'LogModelResult'), r.stdout);
    const text = await p.cli('run', ['--select', 'a', '--log-format', 'text'], { DBT_LOG_FORMAT: 'json' });
    assert.match(text.stdout, /^\d\d:\d\d:\d\d  Done\. PASS=1/m);
  });
});

describe('without a profile (the embedded database)', () => {
  let dir: string;
  let home: string;
  const run = (args: string[], env: Record<string, string> = {}) => {
    const base = { ...process.env };
    for (const k of ['DBT_PROFILES_DIR', 'TSDBT_PROFILES_DIR', 'DBT_TARGET', 'FORCE_COLOR']) delete base[k];
    return spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'tsdbt.mjs'), ...args], {
      cwd: dir,
      env: { ...base, HOME: home, NO_COLOR: '1', ...env },
      encoding: 'utf8',
      timeout: 120_000,
    });
  };
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tsdbt-envf-'));
    home = join(dir, 'home');
    mkdirSync(home);
    writeFileSync(join(dir, 'dbt_project.yml'), projectYml('noprof'));
    mkdirSync(join(dir, 'models'));
    for (let i = 0; i < 2000; i++) writeFileSync(join(dir, 'models', `m${i}.sql`), `select ${i} as x\n`);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('a mistyped --target (or DBT_TARGET) is an error listing the targets, and creates no database', () => {
    for (const [args, env] of [[['run', '--target', 'prd'], {}], [['run'], { DBT_TARGET: 'prd' }]] as const) {
      const r = run([...args], env);
      assert.equal(r.status, 2, r.stdout + r.stderr);
      assert.match(r.stderr, /there is no target named 'prd'.*the embedded database \(PGlite\) has one target, 'dev'/s);
      assert.ok(!existsSync(join(dir, '.tsdbt', 'pglite', 'prd')), 'no new embedded database');
    }
  });

  it('DBT_PROJECT_DIR names the project when --project-dir is not given', () => {
    const elsewhere = mkdtempSync(join(tmpdir(), 'tsdbt-envf-cwd-'));
    try {
      const r = spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'tsdbt.mjs'), 'ls', '--select', 'm1'], {
        cwd: elsewhere,
        env: { ...process.env, HOME: home, NO_COLOR: '1', DBT_PROJECT_DIR: dir },
        encoding: 'utf8',
      });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout.trim(), 'noprof.m1');
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });

  it('`tsdbt ls | head -1` exits 0 with nothing on stderr (the closed pipe ends it quietly)', () => {
    const bin = join(REPO_ROOT, 'bin', 'tsdbt.mjs');
    const r = spawnSync('bash', ['-c', `"${process.execPath}" "${bin}" ls --output json 2>err.txt | head -1 >/dev/null; echo "\${PIPESTATUS[0]}"`], {
      cwd: dir,
      env: { ...process.env, HOME: home, NO_COLOR: '1' },
      encoding: 'utf8',
    });
    assert.equal(r.stdout.trim(), '0');
    const err = spawnSync('cat', ['err.txt'], { cwd: dir, encoding: 'utf8' }).stdout;
    assert.ok(!/EPIPE|Error|    at /.test(err), err);
  });

  it('NO_COLOR and DBT_USE_COLORS=false print no colour codes; --use-colors wins over both', () => {
    const esc = /\u001b\[/;
    assert.ok(!esc.test(run(['ls', '--select', 'nothing_matches'], { NO_COLOR: '1' }).stderr));
    assert.ok(!esc.test(run(['ls', '--select', 'nothing_matches'], { NO_COLOR: '', DBT_USE_COLORS: 'false' }).stderr));
    assert.ok(esc.test(run(['ls', '--select', 'nothing_matches', '--use-colors'], { NO_COLOR: '1' }).stderr));
  });
});
