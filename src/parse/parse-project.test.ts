/**
 * parseProject end to end on small inline projects: env_var() in the parse phase follows dbt
 * (config/env-var.ts), in models, singular tests and source properties alike.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { loadProjectConfig } from '../config/index.ts';
import type { TargetConfig } from '../config/types.ts';
import { CompileErrors, TsdbtError } from '../errors.ts';
import { parseProject, type ParseResult } from './parse-project.ts';

const target: TargetConfig = { name: 'dev', profileName: 'shop', type: 'postgres', schema: 'analytics', threads: 1, dbname: 'test', extra: {}, source: 'test' };

function withProject(files: Record<string, string>, fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'tsdbt-parse-'));
  try {
    for (const [p, text] of Object.entries({ 'dbt_project.yml': 'name: shop\nprofile: shop\nconfig-version: 2\n', ...files })) {
      mkdirSync(dirname(join(dir, p)), { recursive: true });
      writeFileSync(join(dir, p), text);
    }
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function parse(dir: string, env: NodeJS.ProcessEnv): ParseResult {
  return parseProject({ project: loadProjectConfig(dir, { vars: {} }), target, cliVars: {}, invocationId: 'i', env, partialParse: false });
}

function errorsOf(fn: () => unknown): TsdbtError[] {
  try {
    fn();
  } catch (e) {
    if (e instanceof CompileErrors) return [...e.errors];
    if (e instanceof TsdbtError) return [e];
    throw e;
  }
  assert.fail('expected the parse to fail');
}

test('env_var in a model: the value is used; unset without default fails naming the variable and the file', () => {
  const files = {
    'models/a.sql': "{{ config(alias=env_var('PARSE_T_ALIAS')) }}\nselect 1 as id\n",
  };
  withProject(files, (dir) => {
    assert.equal(parse(dir, { PARSE_T_ALIAS: 'a_from_env' }).manifest.nodes['model.shop.a'].alias, 'a_from_env');
    const [e, ...more] = errorsOf(() => parse(dir, {}));
    assert.equal(more.length, 0);
    assert.equal(e.code, 'env-var-missing');
    assert.match(e.message, /env var required but not provided: 'PARSE_T_ALIAS'/);
    assert.equal(e.file, 'models/a.sql');
  });
});

test("env_var('X', none) counts as no default, as dbt (in a model and in a singular test)", () => {
  const files = {
    'models/a.sql': "select '{{ env_var('PARSE_T_NONE', none) }}' as x\n",
    'tests/t.sql': "select * from {{ ref('a') }} where x = '{{ env_var('PARSE_T_NONE2') }}'\n",
  };
  withProject(files, (dir) => {
    const errs = errorsOf(() => parse(dir, {}));
    assert.deepEqual(errs.map((e) => [e.code, e.file]), [['env-var-missing', 'models/a.sql'], ['env-var-missing', 'tests/t.sql']]);
    assert.match(errs[0].message, /'PARSE_T_NONE'/);
    assert.match(errs[1].message, /'PARSE_T_NONE2'/);
    assert.equal(Object.keys(parse(dir, { PARSE_T_NONE: 'v', PARSE_T_NONE2: 'w' }).manifest.nodes).length, 2);
  });
});

test('env_var in a source identifier: default used, env wins, missing is the same error with the properties file and line', () => {
  const yml = (expr: string) =>
    `version: 2\nsources:\n  - name: raw\n    tables:\n      - name: orders\n        identifier: "{{ ${expr} }}"\n`;
  withProject({ 'models/src.yml': yml("env_var('PARSE_T_ID', 'orders_v1')") }, (dir) => {
    assert.equal(parse(dir, {}).manifest.sources['source.shop.raw.orders'].identifier, 'orders_v1');
    assert.equal(parse(dir, { PARSE_T_ID: 'orders_v2' }).manifest.sources['source.shop.raw.orders'].identifier, 'orders_v2');
  });
  withProject({ 'models/src.yml': yml("env_var('PARSE_T_ID')") }, (dir) => {
    const [e] = errorsOf(() => parse(dir, {}));
    assert.equal(e.code, 'env-var-missing');
    assert.equal(e.message, "env var required but not provided: 'PARSE_T_ID' (used in models/src.yml)");
    assert.equal(e.line, 5);
  });
});
