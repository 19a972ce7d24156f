import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isSecretEnvVar, isSecretName, maskTarget, maskUrlCredentials, scrubConnectionText } from '../secrets.ts';
import { loadProjectConfig } from './project.ts';
import type { TargetConfig } from './types.ts';
import { thrown, writeProject } from './write-project.ts';

describe('secrets (structural: fields, never a search over text)', () => {
  it('recognises secret names and secret env vars (dbt: by the DBT_ENV_SECRET_ prefix)', () => {
    for (const n of ['PGPASSWORD', 'DBT_ENV_SECRET_X', 'api_token', 'private_key', 'MyKey']) assert.ok(isSecretName(n), n);
    for (const n of ['PGHOST', 'USER', 'schema', 'threads']) assert.ok(!isSecretName(n), n);
    assert.ok(isSecretEnvVar('DBT_ENV_SECRET_PW'));
    assert.ok(!isSecretEnvVar('MY_DBT_ENV_SECRET_PW'));
    assert.ok(!isSecretEnvVar('PGPASSWORD'));
  });

  it("refuses env_var('DBT_ENV_SECRET_…') in dbt_project.yml with file and line (dbt allows it only in profiles.yml and packages.yml)", () => {
    const dir = writeProject({
      'dbt_project.yml': "name: s\nprofile: p\nvars:\n  x: 1\nmodels:\n  s:\n    +meta:\n      k: \"{{ env_var('DBT_ENV_SECRET_P', 'x') }}\"\n",
    });
    const e = thrown(() => loadProjectConfig(dir, { env: { DBT_ENV_SECRET_P: 'hunter22' } }));
    assert.equal(e.code, 'secret-env-var');
    assert.equal(e.file, 'dbt_project.yml');
    assert.equal(e.line, 8);
    assert.ok(!e.format().includes('hunter22'));
  });

  it('masks a target for printing by field: password and secret-named extra keys, whatever their values', () => {
    const t: TargetConfig = {
      name: 'dev', profileName: 'p', type: 'postgres', schema: 's', threads: 1, password: 'a',
      extra: { api_key: 'k', note: 'a', region: 'eu' }, source: 'x',
    };
    const m = maskTarget(t);
    assert.equal(m.password, '****');
    assert.deepEqual(m.extra, { api_key: '****', note: 'a', region: 'eu' });
    assert.equal(m.schema, 's', 'a one-letter password does not touch other fields');
    assert.equal(t.password, 'a');
    assert.equal(maskTarget({ ...t, password: undefined }).password, undefined);
  });

  it('scrubs only the password field of a connection string in a connection error', () => {
    assert.equal(scrubConnectionText('bad dsn host=db password=hunter2 user=a'), 'bad dsn host=db password=**** user=a');
    assert.equal(scrubConnectionText("x password='p w' y"), 'x password=**** y');
    assert.equal(scrubConnectionText('cannot reach postgres://bob:hunter2@db:5432/x'), 'cannot reach postgres://bob:****@db:5432/x');
    const plain = 'password authentication failed for user "a" at 127.0.0.1 (expected, true)';
    assert.equal(scrubConnectionText(plain), plain);
    assert.equal(maskUrlCredentials('https://tok@github.com/o/r.git'), 'https://****@github.com/o/r.git');
    assert.equal(maskUrlCredentials('https://github.com/o/r.git'), 'https://github.com/o/r.git');
  });
});
