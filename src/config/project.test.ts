import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { TsdbtError } from '../errors.ts';
import { loadProjectConfig } from './project.ts';
import { loadRuntimeConfig } from './runtime.ts';
import { thrown, writeProject } from './write-project.ts';

describe('loadProjectConfig', () => {
  it('applies dbt defaults', () => {
    const dir = writeProject({ 'dbt_project.yml': 'name: jaffle_shop\nprofile: jaffle_shop\n' });
    const p = loadProjectConfig(dir);
    assert.equal(p.root, dir);
    assert.equal(p.name, 'jaffle_shop');
    assert.equal(p.profile, 'jaffle_shop');
    assert.deepEqual(p.modelPaths, ['models']);
    assert.deepEqual(p.seedPaths, ['seeds']);
    assert.deepEqual(p.testPaths, ['tests']);
    assert.deepEqual(p.macroPaths, ['macros']);
    assert.deepEqual(p.snapshotPaths, ['snapshots']);
    assert.deepEqual(p.analysisPaths, ['analyses']);
    assert.deepEqual(p.docsPaths, ['models', 'seeds', 'snapshots', 'analyses', 'macros', 'tests']);
    assert.equal(p.targetPath, 'target');
    assert.deepEqual(p.cleanTargets, ['target']);
    assert.equal(p.packagesInstallPath, 'dbt_packages');
    assert.deepEqual(p.vars, {});
    assert.deepEqual(p.models, {});
    assert.equal(p.file, 'dbt_project.yml');
    assert.deepEqual(p.warnings, []);
  });

  it('reads custom paths; a string is a one-item list; clean-targets defaults to target-path', () => {
    const dir = writeProject({
      'dbt_project.yml': [
        'name: shop',
        'model-paths: ["transform", "more/"]',
        'seed-paths: data',
        'target-path: build',
        'config-version: 2',
        'version: 1.0.0',
      ].join('\n'),
    });
    const p = loadProjectConfig(dir);
    assert.deepEqual(p.modelPaths, ['transform', 'more']);
    assert.deepEqual(p.seedPaths, ['data']);
    assert.equal(p.targetPath, 'build');
    assert.deepEqual(p.cleanTargets, ['build']);
    assert.equal(p.configVersion, 2);
    assert.equal(p.version, '1.0.0');
    assert.ok(p.docsPaths.includes('transform') && p.docsPaths.includes('data'));
  });

  it("renders env_var() and var() (only --vars), leaving vars:, run hooks and model hooks as written", () => {
    const dir = writeProject({
      'dbt_project.yml': [
        'name: shop',
        "profile: \"{{ env_var('SHOP_PROFILE', 'fallback') }}\"",
        "target-path: \"{{ env_var('SHOP_TARGET') }}\"",
        'vars:',
        "  start: \"{{ env_var('NOT_RENDERED') }}\"",
        'on-run-start: "create schema if not exists {{ target.schema }}"',
        'models:',
        '  shop:',
        "    +schema: \"{{ var('schema_suffix', 'x') }}_s\"",
        "    +threads_n: \"{{ env_var('N') | as_number }}\"",
        "    +enabled: \"{{ env_var('ON', 'true') | as_bool }}\"",
        '    +post-hook: "grant select on {{ this }} to reporter"',
        '    staging:',
        '      +pre-hook: ["{{ log(1) }}"]',
      ].join('\n'),
    });
    const p = loadProjectConfig(dir, { vars: { schema_suffix: 'cli' }, env: { SHOP_TARGET: 'out', N: '42' } });
    assert.equal(p.profile, 'fallback');
    assert.equal(p.targetPath, 'out');
    assert.deepEqual(p.vars, { start: "{{ env_var('NOT_RENDERED') }}" });
    assert.deepEqual(p.onRunStart, ['create schema if not exists {{ target.schema }}']);
    const shop = p.models.shop as Record<string, unknown>;
    assert.equal(shop['+schema'], 'cli_s');
    assert.equal(shop['+threads_n'], 42);
    assert.equal(shop['+enabled'], true);
    assert.equal(shop['+post-hook'], 'grant select on {{ this }} to reporter');
    assert.deepEqual((shop.staging as Record<string, unknown>)['+pre-hook'], ['{{ log(1) }}']);
  });

  it('reads YAML 1.1 booleans as PyYAML does, and keeps dates as written', () => {
    const dir = writeProject({ 'dbt_project.yml': 'name: shop\nvars:\n  flag: yes\n  off_flag: off\n  start: 2020-01-01\n  quoted: "yes"\n' });
    assert.deepEqual(loadProjectConfig(dir).vars, { flag: true, off_flag: false, start: '2020-01-01', quoted: 'yes' });
  });

  it('reads data_tests: into tests', () => {
    const dir = writeProject({ 'dbt_project.yml': 'name: shop\ndata_tests:\n  +severity: warn\n' });
    assert.deepEqual(loadProjectConfig(dir).tests, { '+severity': 'warn' });
  });

  it('warns on unknown top-level keys and pre-1.0 names, with lines', () => {
    const dir = writeProject({ 'dbt_project.yml': 'name: shop\nmodel-path: [m]\nsource-paths: [src]\n' });
    const p = loadProjectConfig(dir);
    assert.deepEqual(p.modelPaths, ['src']);
    assert.deepEqual(
      p.warnings!.map((w) => w.format()),
      [
        "dbt_project.yml:2 [unknown-project-key] unknown key 'model-path' in dbt_project.yml; did you mean 'model-paths'?\n  hint: rename it to 'model-paths'",
        "dbt_project.yml:3 [deprecated-project-key] 'source-paths' was renamed 'model-paths' in dbt 1.0\n  hint: rename source-paths to model-paths",
      ],
    );
  });

  it('errors: no dbt_project.yml', () => {
    const dir = writeProject({ 'models/a.sql': 'select 1' });
    const e = thrown(() => loadProjectConfig(join(dir, 'models')));
    assert.equal(e.code, 'no-project');
    assert.equal(e.message, `no dbt_project.yml in ${join(dir, 'models')}`);
    assert.match(e.hint!, /--project-dir/);
    assert.equal(e.kind, 'project');
  });

  it('errors: YAML syntax, with file, line and column', () => {
    const dir = writeProject({ 'dbt_project.yml': 'name: shop\nmodels:\n  shop:\n    +materialized: [table\n' });
    const e = thrown(() => loadProjectConfig(dir));
    assert.equal(e.code, 'yaml-syntax');
    assert.equal(e.file, 'dbt_project.yml');
    assert.equal(e.line, 4);
    assert.equal(e.column, 20);
    assert.equal(e.message, 'invalid YAML in dbt_project.yml: the [ opened here is never closed with ]');
  });

  it('errors: missing or invalid name', () => {
    let e = thrown(() => loadProjectConfig(writeProject({ 'dbt_project.yml': 'profile: x\n' })));
    assert.equal(e.code, 'project-invalid');
    assert.equal(e.message, 'dbt_project.yml has no `name`');
    assert.equal(e.file, 'dbt_project.yml');
    e = thrown(() => loadProjectConfig(writeProject({ 'dbt_project.yml': 'profile: x\nname: my-shop\n' })));
    assert.equal(e.code, 'project-invalid');
    assert.equal(e.line, 2);
    assert.match(e.message, /project name 'my-shop' is not valid/);
    assert.match(e.hint!, /name: my_shop/);
  });

  it('errors: config-version 1, tests and data_tests both, bad paths', () => {
    let e = thrown(() => loadProjectConfig(writeProject({ 'dbt_project.yml': 'name: s\nconfig-version: 1\n' })));
    assert.equal(e.code, 'project-invalid');
    assert.equal(e.line, 2);
    e = thrown(() => loadProjectConfig(writeProject({ 'dbt_project.yml': 'name: s\ntests: {}\ndata_tests: {}\n' })));
    assert.equal(e.code, 'project-invalid');
    assert.equal(e.line, 3);
    e = thrown(() => loadProjectConfig(writeProject({ 'dbt_project.yml': 'name: s\nmodel-paths: {a: 1}\n' })));
    assert.equal(e.code, 'project-invalid');
    assert.equal(e.message, 'model-paths must be a list of paths');
  });

  it('errors: env var missing, var missing, bad Jinja', () => {
    let e = thrown(() => loadProjectConfig(writeProject({ 'dbt_project.yml': "name: s\n\nprofile: \"{{ env_var('NOPE_X') }}\"\n" }), { env: {} }));
    assert.equal(e.code, 'env-var-missing');
    assert.equal(e.message, "env var required but not provided: 'NOPE_X' (used in dbt_project.yml)");
    assert.equal(e.line, 3);
    e = thrown(() => loadProjectConfig(writeProject({ 'dbt_project.yml': "name: s\nprofile: \"{{ var('p') }}\"\nvars: {p: 1}\n" })));
    assert.equal(e.code, 'var-missing');
    assert.equal(e.message, "required var 'p' not found: only --vars are visible in dbt_project.yml");
    assert.equal(e.line, 2);
    e = thrown(() => loadProjectConfig(writeProject({ 'dbt_project.yml': 'name: s\nprofile: "{{ oops( }}"\n' })));
    assert.equal(e.code, 'jinja-error');
    assert.equal(e.line, 2);
  });
});

describe('loadRuntimeConfig', () => {
  it('renders target.* in dbt_project.yml once the profile is known', () => {
    const dir = writeProject({
      'dbt_project.yml': "name: shop\nprofile: shop\nmodels:\n  +schema: \"{{ 'reporting' if target.name == 'prod' else target.schema }}\"\n",
      'profiles.yml': 'shop:\n  target: dev\n  outputs:\n    dev: {type: pglite, schema: analytics}\n    prod: {type: pglite, schema: main}\n',
    });
    const dev = loadRuntimeConfig(dir, { env: {} });
    assert.equal(dev.target.name, 'dev');
    assert.equal(dev.project.models['+schema'], 'analytics');
    const prod = loadRuntimeConfig(dir, { env: {}, target: 'prod' });
    assert.equal(prod.project.models['+schema'], 'reporting');
    assert.equal(prod.notice, undefined);
  });

  it('reports project errors before looking for a profile, and the embedded notice without one', () => {
    const e = thrown(() => loadRuntimeConfig(writeProject({ 'dbt_project.yml': 'profile: nope\n' }), { env: {} }));
    assert.equal(e.code, 'project-invalid');
    const dir = writeProject({ 'dbt_project.yml': 'name: shop\nprofile: shop\n' });
    const r = loadRuntimeConfig(dir, { env: { HOME: join(dir, 'no-home') }, vars: { a: 1 } });
    assert.equal(r.target.type, 'pglite');
    assert.equal(r.notice, 'No profiles.yml found; using the embedded database (PGlite) at .tsdbt/pglite/dev');
    assert.deepEqual(r.cliVars, { a: 1 });
    assert.equal(r.project.name, 'shop');
  });
});
