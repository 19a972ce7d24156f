/**
 * "Nothing silently ignored" (issue 11): an unknown key in dbt_project.yml,
 * a properties file, config() or profiles.yml is one warning naming the key,
 * the file and the line; keys a custom materialization takes are not unknown
 * (read with config.get, or set on a node that uses a custom materialization);
 * and a real project, dbt-utils 1.4.1's integration_tests (dbt-utils' own CI
 * project, from /work/shared/third_party), parses with no unknown-key warning
 * (dbt 1.11 warns about none of its keys either). Parse only: no database.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { REPO_ROOT } from './harness.ts';

const BIN = join(REPO_ROOT, 'bin', 'tsdbt.mjs');
const DBT_UTILS = '/work/shared/third_party/dbt-utils-1.4.1.tar.gz';
const UNKNOWN = /\[(unknown-[a-z-]+)\]/;

function tsdbt(cwd: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number; output: string }> {
  const base: NodeJS.ProcessEnv = { ...process.env, HOME: join(cwd, '.home'), NO_COLOR: '1', ...env };
  delete base.DBT_PROFILES_DIR;
  delete base.TSDBT_PROFILES_DIR;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env: base, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, output }));
  });
}

/** `file:line [code] message` lines of unknown-key warnings, with the key. */
function unknownWarnings(output: string): string[] {
  return output
    .split('\n')
    .filter((l) => UNKNOWN.test(l) || /: unknown key '/.test(l))
    .map((l) => l.replace(/;? did you mean.*$/i, '').trim());
}

describe('unknown keys', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tsdbt-unknown-keys-'));
    const files: Record<string, string> = {
      'dbt_project.yml': 'name: audit\nprofile: audit\nversin: 2\nmodels:\n  audit:\n    +materialzed: table\n    custom:\n      +materialized: my_mat\n      +my_period: day\n      +bucket_hint: 4\n',
      'profiles.yml': 'audit:\n  target: dev\n  outputs:\n    dev:\n      type: pglite\n      schema: audit\n      thraeds: 1\n',
      'macros/mat.sql':
        "{% materialization my_mat, default %}\n{% set p = config.get('my_period') %}\n{% call statement('main') %} create table {{ this }} as {{ sql }} {% endcall %}\n{{ return({'relations': [this]}) }}\n{% endmaterialization %}\n",
      'models/custom/c.sql': '{{ config(lookback_days=5, uniqe_key="id") }}\nselect 1 as id\n',
      'models/a.sql': '{{ config(fancy_key=1) }}\nselect 1 as id\n',
      'models/b.sql': "{{ config(materialized='table', my_period='week') }}\nselect 1 as id\n",
      'models/schema.yml': 'version: 2\nmodels:\n  - name: a\n    descripton: x\n    config:\n      other_key: 1\n  - name: c\n    config:\n      period_col: x\n',
    };
    for (const [rel, text] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, rel)), { recursive: true });
      writeFileSync(join(dir, rel), text);
    }
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('each unknown key is one warning with its file and line; custom materialization keys are not warned', async () => {
    const r = await tsdbt(dir, ['parse']);
    assert.equal(r.code, 0, r.output);
    assert.deepEqual(unknownWarnings(r.output).sort(), [
      "dbt_project.yml:3 [unknown-project-key] unknown key 'versin' in dbt_project.yml",
      "dbt_project.yml:6 [unknown-config-key] unknown config key 'materialzed' in models.audit",
      "models/a.sql:1 [unknown-config-key] unknown config key 'fancy_key' in config()",
      // a misspelt built-in key stays a warning even on a custom-materialized node
      "models/custom/c.sql:1 [unknown-config-key] unknown config key 'uniqe_key' in config()",
      "models/schema.yml:4 [unknown-property] unknown property 'descripton' on model 'a'",
      "models/schema.yml:6 [unknown-config-key] unknown config key 'other_key' in the config of model 'a'",
      "profiles.yml:7: unknown key 'thraeds' in target 'dev' of profile 'audit' (ignored).",
    ].sort());
  });
});

describe("dbt-utils 1.4.1's integration_tests", { skip: existsSync(DBT_UTILS) ? false : `${DBT_UTILS} is not here` }, () => {
  let root: string;
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'tsdbt-dbt-utils-'));
    execFileSync('tar', ['xzf', DBT_UTILS, '-C', root]);
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('parses with no unknown-key warning', async () => {
    const project = join(root, 'dbt-utils-1.4.1', 'integration_tests');
    const deps = await tsdbt(project, ['deps']);
    assert.equal(deps.code, 0, deps.output);
    const env = { POSTGRES_HOST: '127.0.0.1', POSTGRES_USER: 'postgres', DBT_ENV_SECRET_POSTGRES_PASS: '', POSTGRES_PORT: '5432', POSTGRES_DATABASE: 'test', POSTGRES_SCHEMA: 'dbt_utils_it' };
    const r = await tsdbt(project, ['parse', '--profiles-dir', project], env);
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /Parsed 51 models, 75 seeds, 112 data tests/);
    assert.deepEqual(unknownWarnings(r.output), []);
  });
});
