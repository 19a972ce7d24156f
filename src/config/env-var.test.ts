/**
 * env_var() as dbt-core's `env_var` (core/dbt/context/base.py): a set variable wins, a None default is
 * no default, a missing one is "Env var required but not provided", secret-named values are masked.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { envVar } from './env-var.ts';
import { renderValue } from './render.ts';
import { thrown } from './write-project.ts';

test('env_var: a set variable wins over the default, even when empty', () => {
  assert.equal(envVar({ A: 'x' }, 'A', 'dflt'), 'x');
  assert.equal(envVar({ A: '' }, 'A', 'dflt'), '');
});

test('env_var: an unset variable takes the default', () => {
  assert.equal(envVar({}, 'A', 'dflt'), 'dflt');
  assert.equal(envVar({}, 'A', 0), 0);
});

test('env_var: unset with no default, or a None default, is env-var-missing naming the variable, file and line (dbt: default None = no default)', () => {
  for (const fallback of [undefined, null]) {
    const e = thrown(() => envVar({}, 'NOPE_ENV', fallback, { file: 'models/a.sql', line: 3 }));
    assert.equal(e.code, 'env-var-missing');
    assert.equal(e.message, "env var required but not provided: 'NOPE_ENV' (used in models/a.sql)");
    assert.equal(e.file, 'models/a.sql');
    assert.equal(e.line, 3);
    assert.match(e.hint ?? '', /export NOPE_ENV=/);
  }
});

test("env_var: a DBT_ENV_SECRET_ variable is refused outside profiles.yml/packages.yml, set or not (dbt's SecretEnvVarLocationError)", () => {
  const secret = 'hunter2-env-var-test';
  for (const env of [{ DBT_ENV_SECRET_PW: secret }, {}]) {
    const e = thrown(() => envVar(env, 'DBT_ENV_SECRET_PW', 'dflt', { file: 'models/a.sql', line: 4 }));
    assert.equal(e.code, 'secret-env-var');
    assert.equal(e.file, 'models/a.sql');
    assert.equal(e.line, 4);
    assert.match(e.message, /'DBT_ENV_SECRET_PW'.*allowed only in profiles\.yml and packages\.yml/);
    assert.ok(!e.format().includes(secret));
  }
  assert.equal(envVar({ DBT_ENV_SECRET_PW: secret }, 'DBT_ENV_SECRET_PW', undefined, { secretsAllowed: true }), secret);
  // In profiles.yml it is allowed (the render context says so); in dbt_project.yml it is not.
  assert.equal(renderValue("{{ env_var('DBT_ENV_SECRET_PW') }}", { env: { DBT_ENV_SECRET_PW: secret }, cliVars: {}, file: 'profiles.yml', fileKind: 'profiles.yml', secretsAllowed: true }), secret);
  const p = thrown(() => renderValue("{{ env_var('DBT_ENV_SECRET_PW') }}", { env: { DBT_ENV_SECRET_PW: secret }, cliVars: {}, file: 'dbt_project.yml', fileKind: 'dbt_project.yml' }, 9));
  assert.equal(p.code, 'secret-env-var');
  assert.equal(p.line, 9);
});

test('env_var in dbt_project.yml / profiles.yml values uses the same rules (positional or default= keyword)', () => {
  const ctx = { env: {}, cliVars: {}, file: 'profiles.yml', fileKind: 'profiles.yml' };
  assert.equal(renderValue("{{ env_var('U', default='k') }}", ctx), 'k');
  const e = thrown(() => renderValue("{{ env_var('U', none) }}", ctx, 7));
  assert.equal(e.code, 'env-var-missing');
  assert.equal(e.line, 7);
});
