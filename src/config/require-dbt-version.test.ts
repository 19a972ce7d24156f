/** require-dbt-version as dbt's Project.validate_version reads and checks it. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ProjectConfig } from './types.ts';
import { checkRequireDbtVersion, dbtVersionSpecs } from './require-dbt-version.ts';
import { thrown } from './write-project.ts';

const project = (req: ProjectConfig['requireDbtVersion']) => ({ name: 'p', requireDbtVersion: req, requireDbtVersionLine: 3 }) as unknown as ProjectConfig;

test('dbtVersionSpecs: a string is split at commas, a list is kept, nothing is no requirement', () => {
  assert.deepEqual(dbtVersionSpecs('>=1.3.0, <2.0.0'), ['>=1.3.0', '<2.0.0']);
  assert.deepEqual(dbtVersionSpecs(['>=1.0.0']), ['>=1.0.0']);
  assert.deepEqual(dbtVersionSpecs(undefined), []);
});

test('checkRequireDbtVersion: ranges that hold pass; one that excludes the version, an empty range and a malformed specifier are errors with file and line', () => {
  checkRequireDbtVersion(project(['>=1.3.0', '<2.0.0']), '1.8.0', 'dbt_project.yml');
  checkRequireDbtVersion(project('1.8.0'), '1.8.0', 'dbt_project.yml');
  checkRequireDbtVersion(project(undefined), '1.8.0', 'dbt_project.yml');
  const low = thrown(() => checkRequireDbtVersion(project('<1.8.0'), '1.8.0', 'x/dbt_project.yml'));
  assert.deepEqual([low.code, low.file, low.line], ['dbt-version-mismatch', 'x/dbt_project.yml', 3]);
  assert.match(low.message, /tsdbt reports dbt 1\.8\.0, 'p' requires \['<1\.8\.0'\]/);
  assert.match(thrown(() => checkRequireDbtVersion(project(['>2.0.0', '<1.0.0']), '1.8.0', 'f')).message, /can never be satisfied/);
  assert.equal(thrown(() => checkRequireDbtVersion(project('>=1.x'), '1.8.0', 'f')).code, 'project-invalid');
});
