import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clearSecrets, isSecretName, maskTarget, redact, registerSecret } from '../secrets.ts';
import { loadProjectConfig } from './project.ts';
import type { TargetConfig } from './types.ts';
import { writeProject } from './write-project.ts';

describe('secrets', () => {
  it('redacts every registered secret, longest first', () => {
    clearSecrets();
    registerSecret('abc');
    registerSecret('abcdef');
    registerSecret('');
    registerSecret('a.b*c');
    assert.equal(redact('x abcdef y abc z a.b*c abc'), 'x **** y **** z **** ****');
    assert.equal(redact('nothing here'), 'nothing here');
  });

  it('recognises secret names', () => {
    for (const n of ['PGPASSWORD', 'DBT_ENV_SECRET_X', 'api_token', 'private_key', 'MyKey']) assert.ok(isSecretName(n), n);
    for (const n of ['PGHOST', 'USER', 'schema', 'threads']) assert.ok(!isSecretName(n), n);
  });

  it('registers env_var() values read under secret names', () => {
    clearSecrets();
    const dir = writeProject({
      'dbt_project.yml': "name: s\nprofile: \"{{ env_var('DBT_ENV_SECRET_P', 'x') }}-{{ env_var('PLAIN', 'y') }}\"\n",
    });
    loadProjectConfig(dir, { env: { DBT_ENV_SECRET_P: 'hunter22', PLAIN: 'visible' } });
    assert.equal(redact('hunter22 visible'), '**** visible');
  });

  it('masks a target for printing', () => {
    clearSecrets();
    registerSecret('tok123');
    const t: TargetConfig = {
      name: 'dev', profileName: 'p', type: 'postgres', schema: 's', threads: 1, password: 'pw',
      extra: { api_key: 'k', note: 'tok123', region: 'eu' }, source: 'x',
    };
    const m = maskTarget(t);
    assert.equal(m.password, '****');
    assert.deepEqual(m.extra, { api_key: '****', note: '****', region: 'eu' });
    assert.equal(t.password, 'pw');
    assert.equal(maskTarget({ ...t, password: undefined }).password, undefined);
  });
});
