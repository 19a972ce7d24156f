/**
 * `tsdbt deps` as a command: which file holds the packages (dbt's
 * packages.yml / dependencies.yml rules), packages-install-path, `private:`,
 * the "run tsdbt deps" error of other commands, and dbt-utils 1.4.1's own
 * integration_tests project (../shared/third_party, unpacked to a temp dir).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { runDeps } from '../../src/deps/index.ts';
import { TsdbtError } from '../../src/errors.ts';
import { captureConsole, packageFiles, tempDir, tsdbt, writeFiles } from './helpers.ts';

const DBT_UTILS_TARBALL = resolve('/work/shared/third_party/dbt-utils-1.4.1.tar.gz');

function rejectsWith(p: Promise<unknown>, check: (e: TsdbtError) => void): Promise<void> {
  return assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof TsdbtError, String(e));
    check(e);
    return true;
  });
}

describe('tsdbt deps: the project side', () => {
  it('private: packages are [unsupported], naming the file and line', async () => {
    const root = writeFiles(tempDir(), {
      'dbt_project.yml': 'name: shop\nconfig-version: 2\n',
      'packages.yml': 'packages:\n  - local: ../x\n  - private: dbt-labs/internal-package\n    revision: v1\n',
    });
    await rejectsWith(runDeps({ projectDir: root, env: {} }, captureConsole().out), (e) => {
      assert.equal(e.code, 'unsupported');
      assert.equal(e.file, 'packages.yml');
      assert.equal(e.line, 3);
      assert.match(e.format(), /^packages\.yml:3 \[unsupported\] private: packages/);
    });
  });

  it("packages: in both packages.yml and dependencies.yml is an error; dependencies.yml may hold projects: (dbt's rules)", async () => {
    const both = writeFiles(tempDir(), {
      'dbt_project.yml': 'name: shop\nconfig-version: 2\n',
      'packages.yml': 'packages:\n  - local: ../a\n',
      'dependencies.yml': 'packages:\n  - local: ../b\n',
    });
    await rejectsWith(runDeps({ projectDir: both, env: {} }, captureConsole().out), (e) => {
      assert.equal(e.code, 'packages-invalid');
      assert.match(e.message, /cannot be specified in both packages\.yml and dependencies\.yml/);
    });

    const dir = tempDir();
    writeFiles(join(dir, 'lib'), packageFiles('lib', 'lib'));
    const root = writeFiles(join(dir, 'root'), {
      'dbt_project.yml': 'name: shop\nconfig-version: 2\npackages-install-path: vendor/packages\n',
      'dependencies.yml': 'projects:\n  - name: upstream_mesh_project\npackages:\n  - local: "{{ env_var(\'LIB_DIR\') }}"\n',
    });
    await runDeps({ projectDir: root, env: { LIB_DIR: '../lib' } }, captureConsole().out);
    assert.ok(lstatSync(join(root, 'vendor', 'packages', 'lib')).isSymbolicLink(), 'installed into packages-install-path');
    assert.ok(!existsSync(join(root, 'dbt_packages')));
    // dbt's lock keeps a local path rendered (only git and tarball URLs are kept as written).
    assert.match(readFileSync(join(root, 'package-lock.yml'), 'utf8'), /^packages:\n {2}- local: \.\.\/lib\n {4}name: lib\n/);

    const bad = writeFiles(tempDir(), { 'dbt_project.yml': 'name: shop\nconfig-version: 2\n', 'packages.yml': 'projects:\n  - name: x\n' });
    await rejectsWith(runDeps({ projectDir: bad, env: {} }, captureConsole().out), (e) => assert.match(e.message, /'projects' key cannot be specified in packages\.yml/));
  });

  it('a hub entry without version: or without a namespace is an error with its line', async () => {
    const root = writeFiles(tempDir(), {
      'dbt_project.yml': 'name: shop\nconfig-version: 2\n',
      'packages.yml': 'packages:\n  - package: dbt-labs/dbt_utils\n    version: 1.0\n  - package: dbt_utils\n    version: 1.0.0\n',
    });
    await rejectsWith(runDeps({ projectDir: root, env: {} }, captureConsole().out), (e) => {
      assert.equal(e.line, 4);
      assert.match(e.message, /dbt_utils was not found in the package index\. Packages on the index require a namespace/);
    });
    const noVersion = writeFiles(tempDir(), { 'dbt_project.yml': 'name: shop\nconfig-version: 2\n', 'packages.yml': 'packages:\n  - package: dbt-labs/dbt_utils\n' });
    await rejectsWith(runDeps({ projectDir: noVersion, env: {} }, captureConsole().out), (e) => assert.match(e.message, /dbt-labs\/dbt_utils is missing the version/));
  });

  it('other commands stop with one error naming the missing package and saying to run tsdbt deps; after deps they run', async () => {
    const dir = tempDir();
    writeFiles(join(dir, 'lib'), packageFiles('my_lib', 'lib'));
    const root = writeFiles(join(dir, 'root'), {
      'dbt_project.yml': 'name: shop\nprofile: shop\nconfig-version: 2\n',
      'packages.yml': 'packages:\n  - local: ../lib\n',
      'models/m.sql': 'select 1 as id\n',
    });
    const before = await tsdbt(root, ['ls']);
    assert.equal(before.code, 2, before.stderr);
    assert.match(before.stderr, /packages\.yml \[packages-not-installed\] the project expects 1 package\(s\) based on packages\.yml, but found 0 installed in dbt_packages\/\. Not installed: \.\.\/lib\n {2}hint: run tsdbt deps/);

    const deps = await tsdbt(root, ['deps']);
    assert.equal(deps.code, 0, deps.stderr);
    assert.match(deps.stdout, /Installing \.\.\/lib\n {2}Installed from <local @ \.\.\/lib>/);

    const after = await tsdbt(root, ['ls']);
    assert.equal(after.code, 0, after.stderr);
    assert.match(after.stdout, /shop\.m/);

    // With a lock, the message names the package by its project name.
    execFileSync('rm', ['-rf', join(root, 'dbt_packages')]);
    const again = await tsdbt(root, ['compile']);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /based on package-lock\.yml, but found 0 installed in dbt_packages\/\. Not installed: my_lib/);
  });

  it('a package removed from packages.yml is removed from dbt_packages/ and the lock; packages-install-path outside the project is refused', async () => {
    const dir = tempDir();
    writeFiles(join(dir, 'a'), packageFiles('pkg_a', 'a'));
    writeFiles(join(dir, 'b'), packageFiles('pkg_b', 'b'));
    const root = writeFiles(join(dir, 'root'), { 'dbt_project.yml': 'name: shop\nconfig-version: 2\n', 'packages.yml': 'packages:\n  - local: ../a\n  - local: ../b\n' });
    await runDeps({ projectDir: root, env: {} }, captureConsole().out);
    assert.deepEqual(readdirSync(join(root, 'dbt_packages')).filter((n) => !n.startsWith('.')).sort(), ['pkg_a', 'pkg_b']);
    writeFiles(root, { 'packages.yml': 'packages:\n  - local: ../b\n' });
    await runDeps({ projectDir: root, env: {} }, captureConsole().out);
    assert.deepEqual(readdirSync(join(root, 'dbt_packages')).filter((n) => !n.startsWith('.')), ['pkg_b']);
    assert.ok(existsSync(join(dir, 'a', 'dbt_project.yml')), 'the linked package itself is untouched');
    writeFiles(root, { 'packages.yml': 'packages: []\n' });
    await runDeps({ projectDir: root, env: {} }, captureConsole().out);
    assert.deepEqual(readdirSync(join(root, 'dbt_packages')).filter((n) => !n.startsWith('.')), []);
    assert.match(readFileSync(join(root, 'package-lock.yml'), 'utf8'), /^packages: \[\]\n/);

    const outside = writeFiles(join(dir, 'outside'), { 'dbt_project.yml': 'name: shop\nconfig-version: 2\npackages-install-path: ../shared_packages\n', 'packages.yml': 'packages:\n  - local: ../a\n' });
    await rejectsWith(runDeps({ projectDir: outside, env: {} }, captureConsole().out), (e) => {
      assert.equal(e.code, 'project-invalid');
      assert.match(e.message, /packages-install-path '\.\.\/shared_packages' must be a folder inside the project/);
    });
  });

  it('--add-package --source local writes to dependencies.yml when that file holds the packages (dbt: packages_specified_path)', async () => {
    const dir = tempDir();
    writeFiles(join(dir, 'lib'), packageFiles('lib', 'lib'));
    writeFiles(join(dir, 'lib2'), packageFiles('lib2', 'lib2'));
    const root = writeFiles(join(dir, 'root'), { 'dbt_project.yml': 'name: shop\nconfig-version: 2\n', 'dependencies.yml': 'packages:\n  - local: ../lib\n' });
    const c = captureConsole();
    await runDeps({ projectDir: root, env: {}, addPackage: '../lib2', source: 'local' }, c.out);
    assert.equal(readFileSync(join(root, 'dependencies.yml'), 'utf8'), 'packages:\n  - local: ../lib\n  - local: ../lib2\n');
    assert.ok(!existsSync(join(root, 'packages.yml')));
    assert.deepEqual(readdirSync(join(root, 'dbt_packages')).filter((n) => !n.startsWith('.')).sort(), ['lib', 'lib2']);
    assert.match(c.text(), /Added \.\.\/lib2 to dependencies\.yml/);
  });

  it("installs dbt-utils 1.4.1's integration_tests packages (local: ../) unchanged", async () => {
    const dir = tempDir();
    execFileSync('tar', ['xzf', DBT_UTILS_TARBALL, '-C', dir]);
    const project = join(dir, readdirSync(dir)[0], 'integration_tests');
    const r = await tsdbt(project, ['deps']);
    assert.equal(r.code, 0, r.stderr);
    const installed = join(project, 'dbt_packages', 'dbt_utils');
    assert.ok(existsSync(join(installed, 'dbt_project.yml')));
    assert.match(readFileSync(join(installed, 'dbt_project.yml'), 'utf8'), /^name: 'dbt_utils'/m);
    assert.ok(existsSync(join(installed, 'macros', 'sql', 'star.sql')));
    // The lock dbt wrote (dbt 1.7, entries without name:) matches our hash, so it is kept as it was.
    assert.equal(readFileSync(join(project, 'package-lock.yml'), 'utf8'), 'packages:\n- local: ../\nsha1_hash: de2deba3d66ce03d8c02949013650cc9b94f6030\n');
  });
});
