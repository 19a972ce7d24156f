import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeProject } from '../config/write-project.ts';
import { packagesSha1, pythonJsonDumps } from './lock-hash.ts';
import { readPackageSpecs } from './package-spec.ts';

const ctx = { env: {}, cliVars: {} };
const hashOf = (packagesYml: string) => packagesSha1(readPackageSpecs(writeProject({ 'packages.yml': packagesYml }), ctx).specs);

describe("package-lock.yml sha1_hash is dbt's _create_sha1_hash", () => {
  it("a hub package: dbt's tests/functional/dependencies/test_dependency_options.py expects 71304bca…", () => {
    assert.equal(hashOf('packages:\n  - package: fivetran/fivetran_utils\n    version: 0.4.7\n'), '71304bca2138cf8004070b3573a1e17183c0c1a8');
  });

  it("two subdirectories of one git repository: dbt's test_simple_dependency.py expects b9c8042f…", () => {
    const yml = [
      'packages:',
      '  - git: https://github.com/dbt-labs/dbt-multipe-packages.git',
      '    subdirectory: dbt-utils-main',
      '    revision: v0.1.0',
      '  - git: https://github.com/dbt-labs/dbt-multipe-packages.git',
      '    subdirectory: dbt-date-main',
      '    revision: v0.1.0',
      '',
    ].join('\n');
    assert.equal(hashOf(yml), 'b9c8042f29446c55a33f9f211737f445a640c7a1');
  });

  it("a local package: dbt-utils 1.4.1's integration_tests/package-lock.yml (written by dbt) holds de2deba3…", () => {
    assert.equal(hashOf('packages:\n    - local: ../\n'), 'de2deba3d66ce03d8c02949013650cc9b94f6030');
  });

  it('hashes the rendered value and the entry as written (dbt\'s to_dict holds both)', () => {
    const yml = "packages:\n  - git: \"https://{{ env_var('DBT_ENV_SECRET_T') }}@example.com/r.git\"\n    revision: v1\n";
    const root = writeProject({ 'packages.yml': yml });
    const a = packagesSha1(readPackageSpecs(root, { env: { DBT_ENV_SECRET_T: 'one' }, cliVars: {} }).specs);
    const b = packagesSha1(readPackageSpecs(root, { env: { DBT_ENV_SECRET_T: 'two' }, cliVars: {} }).specs);
    assert.notEqual(a, b);
    assert.notEqual(a, hashOf('packages:\n  - git: https://one@example.com/r.git\n    revision: v1\n'));
  });

  it("dumps JSON as Python's json.dumps(sort_keys=True): separators and non-ASCII escapes", () => {
    assert.equal(pythonJsonDumps({ b: [1, null, true], a: 'é"\u007f' }), '{"a": "\\u00e9\\"\\u007f", "b": [1, null, true]}');
  });
});
