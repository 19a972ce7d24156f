import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { TsdbtError } from '../errors.ts';
import { maskTarget } from '../secrets.ts';
import { loadProfile } from './profile.ts';
import { loadProjectConfig } from './project.ts';
import { thrown, writeProject } from './write-project.ts';

/** An environment with an empty HOME, so ~/.dbt/profiles.yml of the machine is never read. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { HOME: mkdtempSync(join(tmpdir(), 'tsdbt-home-')), ...extra };
}

const PG_PROFILES = `shop:
  target: dev
  outputs:
    dev:
      type: postgres
      host: 127.0.0.1
      port: "{{ env_var('PGPORT_T', '5432') }}"
      user: postgres
      password: "{{ env_var('SHOP_DB_PASSWORD') }}"
      dbname: test
      schema: dbt_dev
      threads: 4
      sslmode: disable
    prod:
      type: postgres
      host: "{{ env_var('PROD_HOST') }}"
      user: x
      pass: y
      database: warehouse
      schema: analytics
    lite:
      type: pglite
      path: data/lite
      threads: 8
    snow:
      type: snowflake
      account: abc
    broken:
      type: postgres
      host: h
other_project:
  outputs: {}
`;

describe('loadProfile', () => {
  it('uses the embedded PGlite target when there is no profiles.yml anywhere', () => {
    const dir = writeProject({ 'dbt_project.yml': 'name: shop\nprofile: shop\n' });
    const r = loadProfile(loadProjectConfig(dir), { env: cleanEnv() });
    assert.deepEqual(r.target, {
      name: 'dev',
      profileName: 'shop',
      type: 'pglite',
      schema: 'public',
      threads: 1,
      dataDir: join(dir, '.tsdbt', 'pglite', 'dev'),
      extra: {},
      source: 'embedded default',
    });
    assert.equal(r.notice, 'No profiles.yml found; using the embedded database (PGlite) at .tsdbt/pglite/dev');
    assert.deepEqual(r.warnings, []);
    // Issue 13: a mistyped target must not quietly create a second embedded database.
    assert.throws(() => loadProfile(loadProjectConfig(dir), { env: cleanEnv(), target: 'ci' }), (e: TsdbtError) => e.code === 'target-not-found' && /has one target, 'dev'/.test(e.message));
    assert.equal(loadProfile(loadProjectConfig(dir), { env: cleanEnv(), target: 'dev' }).target.dataDir, join(dir, '.tsdbt', 'pglite', 'dev'));
  });

  it('reads a postgres target from the project dir, rendering env_var() and registering the password', () => {
    const dir = writeProject({ 'dbt_project.yml': 'name: shop\nprofile: shop\n', 'profiles.yml': PG_PROFILES });
    const r = loadProfile(loadProjectConfig(dir), { env: cleanEnv({ SHOP_DB_PASSWORD: 's3cr3t-pw', PGPORT_T: '5433' }) });
    assert.equal(r.notice, undefined);
    assert.equal(r.profilesFile, join(dir, 'profiles.yml'));
    const t = r.target;
    assert.equal(t.type, 'postgres');
    assert.equal(t.name, 'dev');
    assert.equal(t.profileName, 'shop');
    assert.equal(t.host, '127.0.0.1');
    assert.equal(t.port, 5433);
    assert.equal(t.user, 'postgres');
    assert.equal(t.password, 's3cr3t-pw');
    assert.equal(t.dbname, 'test');
    assert.equal(t.schema, 'dbt_dev');
    assert.equal(t.threads, 4);
    assert.equal(t.sslmode, 'disable');
    assert.equal(t.connect_timeout, 10);
    assert.equal(t.retries, 1);
    const masked = maskTarget(t);
    assert.equal(masked.password, '****');
    assert.equal(t.password, 's3cr3t-pw');
    assert.ok(!JSON.stringify(masked).includes('s3cr3t-pw'));
  });

  it('accepts pass/database aliases and only renders the chosen target', () => {
    const dir = writeProject({ 'dbt_project.yml': 'name: shop\nprofile: shop\n', 'profiles.yml': PG_PROFILES });
    // dev needs SHOP_DB_PASSWORD, but prod does not render it
    const r = loadProfile(loadProjectConfig(dir), { target: 'prod', env: cleanEnv({ PROD_HOST: 'db.example.com' }) });
    assert.equal(r.target.host, 'db.example.com');
    assert.equal(r.target.password, 'y');
    assert.equal(r.target.dbname, 'warehouse');
    assert.equal(r.target.port, 5432);
    assert.equal(r.target.threads, 1);
  });

  it('reads a pglite target: path relative to the project, threads forced to 1 with a warning', () => {
    const dir = writeProject({ 'dbt_project.yml': 'name: shop\nprofile: shop\n', 'profiles.yml': PG_PROFILES });
    const r = loadProfile(loadProjectConfig(dir), { target: 'lite', env: cleanEnv() });
    assert.equal(r.target.type, 'pglite');
    assert.equal(r.target.dataDir, join(dir, 'data', 'lite'));
    assert.equal(r.target.schema, 'public');
    assert.equal(r.target.threads, 1);
    assert.deepEqual(r.warnings, [
      "profiles.yml:24: PGlite runs one query at a time; threads: 8 in target 'lite' of profile 'shop' is treated as 1",
    ]);
  });

  it('looks in --profiles-dir, then TSDBT_PROFILES_DIR / DBT_PROFILES_DIR, then the project, then ~/.dbt', () => {
    const one = (schema: string) => `shop:\n  target: dev\n  outputs:\n    dev: {type: pglite, schema: ${schema}}\n`;
    const flagDir = writeProject({ 'profiles.yml': one('from_flag') });
    const envDir = writeProject({ 'profiles.yml': one('from_env') });
    const home = writeProject({ '.dbt/profiles.yml': one('from_home') });
    const withProfiles = writeProject({ 'dbt_project.yml': 'name: shop\nprofile: shop\n', 'profiles.yml': one('from_project') });
    const without = writeProject({ 'dbt_project.yml': 'name: shop\nprofile: shop\n' });
    const p = loadProjectConfig(withProfiles);
    assert.equal(loadProfile(p, { profilesDir: flagDir, env: { HOME: home, DBT_PROFILES_DIR: envDir } }).target.schema, 'from_flag');
    assert.equal(loadProfile(p, { env: { HOME: home, DBT_PROFILES_DIR: envDir } }).target.schema, 'from_env');
    assert.equal(loadProfile(p, { env: { HOME: home, TSDBT_PROFILES_DIR: envDir } }).target.schema, 'from_env');
    assert.equal(loadProfile(p, { env: { HOME: home } }).target.schema, 'from_project');
    const fromHome = loadProfile(loadProjectConfig(without), { env: { HOME: home } });
    assert.equal(fromHome.target.schema, 'from_home');
    assert.equal(fromHome.target.source, join(home, '.dbt', 'profiles.yml'));
    const missingEnv = loadProfile(loadProjectConfig(without), { env: { HOME: home, DBT_PROFILES_DIR: without } });
    assert.equal(missingEnv.target.schema, 'from_home');
    assert.deepEqual(missingEnv.warnings, [`DBT_PROFILES_DIR is set to ${without}, but there is no profiles.yml there; looking elsewhere`]);
  });

  it('uses the embedded target when only ~/.dbt/profiles.yml exists and it lacks the profile', () => {
    const home = writeProject({ '.dbt/profiles.yml': 'other:\n  outputs:\n    dev: {type: pglite}\n' });
    const dir = writeProject({ 'dbt_project.yml': 'name: shop\nprofile: shop\n' });
    const r = loadProfile(loadProjectConfig(dir), { env: { HOME: home } });
    assert.equal(r.target.source, 'embedded default');
    assert.equal(r.notice, "Profile 'shop' is not in ~/.dbt/profiles.yml (it has: other); using the embedded database (PGlite) at .tsdbt/pglite/dev");
  });

  it('errors: --profiles-dir without profiles.yml', () => {
    const dir = writeProject({ 'dbt_project.yml': 'name: shop\nprofile: shop\n' });
    const e = thrown(() => loadProfile(loadProjectConfig(dir), { profilesDir: join(dir, 'nope'), env: cleanEnv() }));
    assert.equal(e.code, 'profiles-not-found');
    assert.equal(e.message, `no profiles.yml in ${join(dir, 'nope')} (given with --profiles-dir)`);
  });

  it('errors: profile not found lists the profiles', () => {
    const dir = writeProject({ 'dbt_project.yml': 'name: shop\nprofile: shopp\n', 'profiles.yml': PG_PROFILES });
    const e = thrown(() => loadProfile(loadProjectConfig(dir), { env: cleanEnv() }));
    assert.equal(e.code, 'profile-not-found');
    assert.equal(e.message, "profile 'shopp' not found in profiles.yml. Did you mean 'shop'?");
    assert.equal(e.file, 'profiles.yml');
    assert.match(e.hint!, /available profiles: shop, other_project/);
  });

  it('errors: target not found lists outputs and suggests the closest', () => {
    const dir = writeProject({ 'dbt_project.yml': 'name: shop\nprofile: shop\n', 'profiles.yml': PG_PROFILES });
    const e = thrown(() => loadProfile(loadProjectConfig(dir), { target: 'prd', env: cleanEnv() }));
    assert.equal(e.code, 'target-not-found');
    assert.equal(e.message, "profile 'shop' has no target named 'prd'. Did you mean 'prod'?");
    assert.equal(e.line, 3);
    assert.match(e.hint!, /valid targets for 'shop': dev, prod, lite, snow, broken/);
  });

  it("errors: a profile without target: uses 'default', as dbt does", () => {
    const dir = writeProject({ 'dbt_project.yml': 'name: shop\nprofile: shop\n', 'profiles.yml': 'shop:\n  outputs:\n    dev: {type: pglite}\n' });
    const e = thrown(() => loadProfile(loadProjectConfig(dir), { env: cleanEnv() }));
    assert.equal(e.code, 'target-not-found');
    assert.equal(e.message, "profile 'shop' has no target named 'default'.");
    assert.match(e.hint!, /or set `target:` in the profile/);
  });

  it('errors: unsupported adapter, missing fields, env var missing, YAML syntax', () => {
    const dir = writeProject({ 'dbt_project.yml': 'name: shop\nprofile: shop\n', 'profiles.yml': PG_PROFILES });
    const p = loadProjectConfig(dir);
    let e = thrown(() => loadProfile(p, { target: 'snow', env: cleanEnv() }));
    assert.equal(e.code, 'unsupported-adapter');
    assert.equal(e.message, "target 'snow' of profile 'shop' has type 'snowflake', which tsdbt does not support");
    assert.equal(e.line, 26);
    e = thrown(() => loadProfile(p, { target: 'broken', env: cleanEnv() }));
    assert.equal(e.code, 'profile-invalid');
    assert.equal(e.message, "target 'broken' of profile 'shop' is missing 'user', 'dbname', 'schema'");
    assert.equal(e.line, 28);
    e = thrown(() => loadProfile(p, { env: cleanEnv() }));
    assert.equal(e.code, 'env-var-missing');
    assert.equal(e.message, "env var required but not provided: 'SHOP_DB_PASSWORD' (used in profiles.yml)");
    assert.equal(e.file, 'profiles.yml');
    assert.equal(e.line, 9);
    const bad = writeProject({ 'dbt_project.yml': 'name: shop\nprofile: shop\n', 'profiles.yml': 'shop:\n  outputs:\n    dev:\n      type: "postgres\n' });
    e = thrown(() => loadProfile(loadProjectConfig(bad), { env: cleanEnv() }));
    assert.equal(e.code, 'yaml-syntax');
    assert.equal(e.file, 'profiles.yml');
    assert.equal(e.line, 4);
  });

  it('warns about unknown keys with a suggestion', () => {
    const dir = writeProject({
      'dbt_project.yml': 'name: shop\nprofile: shop\n',
      'profiles.yml': 'shop:\n  target: dev\n  outputs:\n    dev:\n      type: postgres\n      host: h\n      user: u\n      dbname: d\n      schema: s\n      sslmod: require\n',
    });
    const r = loadProfile(loadProjectConfig(dir), { env: cleanEnv() });
    assert.deepEqual(r.warnings, ["profiles.yml:10: unknown key 'sslmod' in target 'dev' of profile 'shop' (ignored). Did you mean 'sslmode'?"]);
    assert.deepEqual(r.target.extra, { sslmod: 'require' });
  });
});

describe('loadProfile: adapter extras', () => {
  it('keeps role, keepalives_idle and ssl files typed and in extra (the postgres adapter reads extra)', () => {
    const dir = writeProject({
      'dbt_project.yml': 'name: shop\nprofile: shop\n',
      'profiles.yml': 'shop:\n  target: dev\n  outputs:\n    dev:\n      type: postgres\n      host: h\n      user: u\n      dbname: d\n      schema: s\n      role: transformer\n      keepalives_idle: "30"\n      sslrootcert: /etc/ca.pem\n',
    });
    const t = loadProfile(loadProjectConfig(dir), { env: cleanEnv() }).target;
    assert.equal(t.role, 'transformer');
    assert.equal(t.keepalives_idle, 30);
    assert.deepEqual(t.extra, { sslrootcert: '/etc/ca.pem', role: 'transformer', keepalives_idle: 30 });
  });
});
