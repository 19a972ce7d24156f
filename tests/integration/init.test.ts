/**
 * `tsdbt init` (dbt's InitTask): a starter project and a profile, from flags
 * (CI), from answers piped on stdin, and the rules dbt keeps (invalid names,
 * an existing folder, --skip-profile-setup, --profile, a profile that exists,
 * inside an existing project). The starter project then builds on the
 * embedded PGlite with no server, and on PostgreSQL with a profile written
 * by init (its connection test included).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from './harness.ts';
import { pgAvailable, pgliteTemplateDir, postgresTarget, uniqueSchemaName } from '../../src/adapters/testing.ts';
import { createAdapter } from '../../src/adapters/index.ts';

const BIN = join(REPO_ROOT, 'bin', 'tsdbt.mjs');

interface Run {
  code: number;
  stdout: string;
  output: string;
}

/** Runs tsdbt in `cwd` with HOME=`home`, writing `stdin` (or closing it at once). */
function tsdbt(cwd: string, home: string, args: string[], stdin = ''): Promise<Run> {
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, NO_COLOR: '1' };
  delete env.DBT_PROFILES_DIR;
  delete env.TSDBT_PROFILES_DIR;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, output: `exit ${code}\n--- stdout\n${stdout}\n--- stderr\n${stderr}` }));
    child.stdin.end(stdin);
  });
}

describe('tsdbt init', () => {
  let root: string;
  let home: string;
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'tsdbt-init-'));
    home = join(root, 'home');
    mkdirSync(home);
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('with flags only (CI): the starter project and a pglite profile in ~/.dbt, nothing asked', async () => {
    const r = await tsdbt(root, home, ['init', 'demo', '--adapter', 'pglite', '--schema', 'analytics']);
    assert.equal(r.code, 0, r.output);
    assert.doesNotMatch(r.stdout, /\[1\] pglite/);
    for (const f of ['dbt_project.yml', 'models/example/my_first_dbt_model.sql', 'models/example/my_second_dbt_model.sql', 'models/example/schema.yml', '.gitignore', 'README.md', 'seeds/.gitkeep', 'macros/.gitkeep', 'snapshots/.gitkeep', 'analyses/.gitkeep', 'tests/.gitkeep']) {
      assert.ok(existsSync(join(root, 'demo', f)), f);
    }
    assert.match(readFileSync(join(root, 'demo', 'dbt_project.yml'), 'utf8'), /^name: 'demo'$[\s\S]*^profile: 'demo'$[\s\S]*^  demo:\n    example:\n      \+materialized: view$/m);
    assert.equal(
      readFileSync(join(home, '.dbt', 'profiles.yml'), 'utf8'),
      'demo:\n  target: dev\n  outputs:\n    dev:\n      type: pglite\n      path: .tsdbt/pglite/dev\n      schema: analytics\n      threads: 1\n',
    );
  });

  it('the starter project builds on the embedded database with no server: 2 models, 4 passing tests', async () => {
    // The data directory the profile names, copied from an initdb'd template (initdb itself is slow, not what is tested).
    cpSync(await pgliteTemplateDir(), join(root, 'demo', '.tsdbt', 'pglite', 'dev'), { recursive: true });
    const r = await tsdbt(join(root, 'demo'), home, ['build']);
    assert.equal(r.code, 0, r.output);
    assert.match(r.stdout, /Target dev: pglite at \.tsdbt\/pglite\/dev, schema analytics/);
    assert.match(r.stdout, /PASS=6 WARN=0 ERROR=0 SKIP=0 NO-OP=0 TOTAL=6/);
  });

  it('answers piped on stdin: a postgres profile whose password is read from the named variable, never written', async () => {
    const answers = ['2', 'prod', 'marts', 'db.internal', '5433', 'alice', 'MY_PG_PASSWORD', 'warehouse', '8', ''].join('\n');
    const r = await tsdbt(root, home, ['init', 'piped', '--skip-debug'], answers);
    assert.equal(r.code, 0, r.output);
    assert.match(r.stdout, /Which database would you like to use\?\n\[1\] pglite/);
    const profiles = readFileSync(join(home, '.dbt', 'profiles.yml'), 'utf8');
    assert.match(profiles, /^demo:/m, 'the other profile is kept');
    assert.match(
      profiles,
      /^piped:\n  target: prod\n  outputs:\n    prod:\n      type: postgres\n      host: db\.internal\n      port: 5433\n      user: alice\n      password: "\{\{ env_var\('MY_PG_PASSWORD', ''\) \}\}"\n      dbname: warehouse\n      schema: marts\n      threads: 8\n/m,
    );
  });

  it('stdin closed at once: every prompt takes its default (pglite, dev, public)', async () => {
    const r = await tsdbt(root, home, ['init', 'defaults', '--profiles-dir', join(root, 'profiles')]);
    assert.equal(r.code, 0, r.output);
    assert.match(readFileSync(join(root, 'profiles', 'profiles.yml'), 'utf8'), /^defaults:\n  target: dev\n  outputs:\n    dev:\n      type: pglite\n      path: \.tsdbt\/pglite\/dev\n      schema: public\n/);
  });

  it('a postgres value without a default and no answer is an error naming its flag', async () => {
    const r = await tsdbt(root, home, ['init', 'nouser', '--adapter', 'postgres', '--profiles-dir', join(root, 'p2')]);
    assert.equal(r.code, 2, r.output);
    assert.match(r.output, /\[init-missing-value\][\s\S]*--user/);
  });

  it('--skip-profile-setup: the project and no profile', async () => {
    const r = await tsdbt(root, home, ['init', 'noprofile', '--skip-profile-setup', '--profiles-dir', join(root, 'p3')]);
    assert.equal(r.code, 0, r.output);
    assert.ok(existsSync(join(root, 'noprofile', 'dbt_project.yml')));
    assert.ok(!existsSync(join(root, 'p3', 'profiles.yml')));
  });

  it('an invalid project name, a folder that exists, and --profile naming no profile are errors', async () => {
    const bad = await tsdbt(root, home, ['init', '1st-project', '-s']);
    assert.equal(bad.code, 2, bad.output);
    assert.match(bad.output, /1st-project is not a valid project name/);
    const again = await tsdbt(root, home, ['init', 'demo', '-s']);
    assert.equal(again.code, 2, again.output);
    assert.match(again.output, /A project called demo already exists here/);
    const missing = await tsdbt(root, home, ['init', 'other', '--profile', 'nope']);
    assert.equal(missing.code, 2, missing.output);
    assert.match(missing.output, /Could not find profile named 'nope'/);
    assert.ok(!existsSync(join(root, 'other')));
  });

  it('--profile NAME: the project uses that existing profile, and none is written', async () => {
    const before = readFileSync(join(home, '.dbt', 'profiles.yml'), 'utf8');
    const r = await tsdbt(root, home, ['init', 'reuse', '--profile', 'demo']);
    assert.equal(r.code, 0, r.output);
    assert.match(readFileSync(join(root, 'reuse', 'dbt_project.yml'), 'utf8'), /^profile: 'demo'$/m);
    assert.equal(readFileSync(join(home, '.dbt', 'profiles.yml'), 'utf8'), before);
  });

  it('inside a project: sets up its profile only, asking before overwriting it (no keeps it, yes replaces it)', async () => {
    const dir = join(root, 'demo');
    const keep = await tsdbt(dir, home, ['init', '--adapter', 'pglite', '--schema', 'changed'], 'n\n');
    assert.equal(keep.code, 0, keep.output);
    assert.match(keep.stdout, /The profile demo already exists in .*Continue and overwrite it\?/);
    assert.match(readFileSync(join(home, '.dbt', 'profiles.yml'), 'utf8'), /schema: analytics/);
    const replace = await tsdbt(dir, home, ['init', '--adapter', 'pglite', '--schema', 'changed'], 'y\n');
    assert.equal(replace.code, 0, replace.output);
    const profiles = readFileSync(join(home, '.dbt', 'profiles.yml'), 'utf8');
    assert.match(profiles, /^demo:\n  target: dev\n  outputs:\n    dev:\n      type: pglite\n      path: \.tsdbt\/pglite\/dev\n      schema: changed\n/m);
    assert.match(profiles, /^piped:/m);
    const withProfile = await tsdbt(dir, home, ['init', '--profile', 'piped']);
    assert.equal(withProfile.code, 2, withProfile.output);
    assert.match(withProfile.output, /Can not init existing project with specified profile, edit dbt_project.yml instead/);
  });
});

describe('tsdbt init on PostgreSQL', async () => {
  const available = await pgAvailable();
  const schema = uniqueSchemaName('tsdbt_init');
  let root: string;
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'tsdbt-init-pg-'));
  });
  after(async () => {
    rmSync(root, { recursive: true, force: true });
    if (!available) return;
    const a = await createAdapter(postgresTarget(schema));
    try {
      await a.withConnection((c) => c.query(`drop schema if exists "${schema}" cascade`));
    } finally {
      await a.close();
    }
  });

  it('writes a postgres profile from flags, tests the connection, and the starter project builds there', { skip: available ? false : 'PostgreSQL is not reachable' }, async () => {
    const t = postgresTarget(schema);
    const home = join(root, 'home');
    const r = await tsdbt(root, home, ['init', 'pgdemo', '--adapter', 'postgres', '--host', t.host!, '--port', String(t.port), '--user', t.user!, '--dbname', t.dbname!, '--schema', schema, '--threads', '2', '--password-env', 'PGPASSWORD']);
    assert.equal(r.code, 0, r.output);
    assert.match(r.stdout, /Connection test: OK/);
    const b = await tsdbt(join(root, 'pgdemo'), home, ['build']);
    assert.equal(b.code, 0, b.output);
    assert.match(b.stdout, /PASS=6 WARN=0 ERROR=0 SKIP=0 NO-OP=0 TOTAL=6/);
    const a = await createAdapter(t);
    try {
      const rows = await a.withConnection((c) => c.query(`select id, label from "${schema}".my_second_dbt_model`));
      assert.deepEqual(rows.rows, [{ id: 1, label: 'first' }]);
    } finally {
      await a.close();
    }
  });

  it('a connection test that fails is a note, not an error (as dbt init)', { skip: available ? false : 'PostgreSQL is not reachable' }, async () => {
    const home = join(root, 'home2');
    const r = await tsdbt(root, home, ['init', 'badpg', '--adapter', 'postgres', '--host', '127.0.0.1', '--port', '1', '--user', 'nobody', '--dbname', 'x', '--schema', 's', '--threads', '1']);
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /Connection test failed[\s\S]*Your profile may need adjustments/);
  });
});
