/**
 * `tsdbt deps` with git packages from a local bare repository made in the
 * test (tags, a branch, a commit sha, a subdirectory), as dbt-core's git
 * packages (core/dbt/deps/git.py): the lock pins the commit, `warn-unpinned`
 * warns about HEAD and main/master, two revisions of one repository conflict.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { packagesSha1, readPackageSpecs, runDeps } from '../../src/deps/index.ts';
import { TsdbtError } from '../../src/errors.ts';
import { captureConsole, git, packageFiles, tempDir, tsdbt, writeFiles } from './helpers.ts';

let bare: string;
let work: string;
const sha: Record<string, string> = {};

function project(packagesYml: string, extra: Record<string, string> = {}): string {
  return writeFiles(tempDir(), { 'dbt_project.yml': 'name: shop\nconfig-version: 2\n', 'packages.yml': packagesYml, ...extra });
}

function marker(root: string, name: string): string {
  return /'([^']*)'/.exec(readFileSync(join(root, 'dbt_packages', name, 'macros', `${name}_marker.sql`), 'utf8'))![1];
}

function commit(files: Record<string, string>, message: string): string {
  writeFiles(work, files);
  git(work, 'add', '-A');
  git(work, 'commit', '-q', '-m', message);
  return git(work, 'rev-parse', 'HEAD');
}

before(() => {
  const dir = tempDir('tsdbt-deps-git-');
  work = join(dir, 'work');
  bare = join(dir, 'gitpkg.git');
  git(dir, 'init', '-q', '-b', 'main', work);
  const sub = (m: string) => Object.fromEntries(Object.entries(packageFiles('subpkg', m)).map(([k, v]) => [`integration/${k}`, v]));
  sha.v1 = commit({ ...packageFiles('gitpkg', 'v1'), ...sub('sub v1') }, 'v1');
  git(work, 'tag', 'v1.0.0');
  sha.v2 = commit({ ...packageFiles('gitpkg', 'v2'), ...sub('sub v2') }, 'v2');
  git(work, 'tag', '-a', '-m', 'release 2', 'v2.0.0');
  git(work, 'checkout', '-q', '-b', 'feature');
  sha.feature = commit(packageFiles('gitpkg', 'feature'), 'feature work');
  git(work, 'checkout', '-q', 'main');
  sha.main = commit(packageFiles('gitpkg', 'main head'), 'main');
  git(dir, 'init', '-q', '--bare', '-b', 'main', bare);
  git(work, 'push', '-q', bare, 'main', 'feature', '--tags');
});

describe('tsdbt deps: git packages from a local bare repository', () => {
  it('a tag: installs that commit and pins its sha in package-lock.yml (as dbt)', async () => {
    const root = project(`packages:\n  - git: ${bare}\n    revision: v1.0.0\n`);
    await runDeps({ projectDir: root, env: {} }, captureConsole().out);
    assert.equal(marker(root, 'gitpkg'), 'v1');
    assert.equal(readFileSync(join(root, 'package-lock.yml'), 'utf8').split('\n').slice(0, 4).join('\n'),
      `packages:\n  - git: ${bare}\n    name: gitpkg\n    revision: ${sha.v1}`);
    assert.ok(!existsSync(join(root, 'dbt_packages', 'gitpkg', '.git')), 'the checkout is copied without .git');
  });

  it('an annotated tag, a branch and a full commit sha', async () => {
    for (const [rev, expected] of [['v2.0.0', 'v2'], ['feature', 'feature'], [sha.v2, 'v2']] as const) {
      const root = project(`packages:\n  - git: "${bare}"\n    revision: ${rev}\n`);
      await runDeps({ projectDir: root, env: {} }, captureConsole().out);
      assert.equal(marker(root, 'gitpkg'), expected, rev);
      assert.match(readFileSync(join(root, 'package-lock.yml'), 'utf8'), new RegExp(`revision: ${rev === 'feature' ? sha.feature : sha.v2}\n`));
    }
  });

  it('subdirectory: installs the package folder inside the repository under its own name', async () => {
    const root = project(`packages:\n  - git: ${bare}\n    revision: v1.0.0\n    subdirectory: integration\n`);
    await runDeps({ projectDir: root, env: {} }, captureConsole().out);
    assert.equal(marker(root, 'subpkg'), 'sub v1');
    assert.deepEqual(readdirSync(join(root, 'dbt_packages')).filter((n) => !n.startsWith('.')), ['subpkg']);
    assert.match(readFileSync(join(root, 'package-lock.yml'), 'utf8'), /name: subpkg\n {4}revision: [0-9a-f]{40}\n {4}subdirectory: integration\n/);

    const missing = project(`packages:\n  - git: ${bare}\n    revision: v1.0.0\n    subdirectory: nope\n`);
    await assert.rejects(runDeps({ projectDir: missing, env: {} }, captureConsole().out), /has no subdirectory 'nope' at revision v1\.0\.0/);
  });

  it('no revision: installs the default branch and warns that it is unpinned, unless warn-unpinned: false', async () => {
    const c = captureConsole();
    const root = project(`packages:\n  - git: ${bare}\n`);
    await runDeps({ projectDir: root, env: {} }, c.out);
    assert.equal(marker(root, 'gitpkg'), 'main head');
    assert.match(c.text(), /The git package ".*gitpkg\.git" is not pinned: it follows the default branch \(HEAD\)/);

    const quiet = captureConsole();
    await runDeps({ projectDir: project(`packages:\n  - git: ${bare}\n    revision: main\n    warn-unpinned: false\n`), env: {} }, quiet.out);
    assert.doesNotMatch(quiet.text(), /not pinned/);
  });

  it('the lock pins the commit: a new commit on the branch is installed only with --upgrade', async () => {
    const dir = tempDir('tsdbt-deps-git-up-');
    const repo = join(dir, 'moving.git');
    git(dir, 'clone', '-q', '--bare', bare, repo);
    const root = project(`packages:\n  - git: ${repo}\n    revision: feature\n`);
    await runDeps({ projectDir: root, env: {} }, captureConsole().out);
    assert.equal(marker(root, 'gitpkg'), 'feature');

    const clone = join(dir, 'clone');
    git(dir, 'clone', '-q', '-b', 'feature', repo, clone);
    writeFiles(clone, packageFiles('gitpkg', 'feature 2'));
    git(clone, '-c', 'user.name=t', '-c', 'user.email=t@e', 'commit', '-q', '-am', 'more');
    git(clone, 'push', '-q', 'origin', 'feature');

    const c = captureConsole();
    const again = await runDeps({ projectDir: root, env: {} }, c.out);
    assert.equal(again.locked, false);
    assert.deepEqual(again.install?.installed, [], 'nothing re-cloned');
    assert.equal(marker(root, 'gitpkg'), 'feature');

    await runDeps({ projectDir: root, env: {}, upgrade: true }, captureConsole().out);
    assert.equal(marker(root, 'gitpkg'), 'feature 2');
  });

  it('--add-package url@revision --source git adds a git entry with revision:', async () => {
    const root = writeFiles(tempDir(), { 'dbt_project.yml': 'name: shop\nconfig-version: 2\n' });
    const c = captureConsole();
    await runDeps({ projectDir: root, env: {}, addPackage: `${bare}@v2.0.0`, source: 'git' }, c.out);
    assert.equal(readFileSync(join(root, 'packages.yml'), 'utf8'), `packages:\n  - git: ${bare}\n    revision: v2.0.0\n`);
    assert.match(c.text(), /Created packages\.yml/);
    assert.equal(marker(root, 'gitpkg'), 'v2');
  });

  it('reads a lock dbt 1.7.0–1.7.2 wrote (entries without name:): the name comes from the package; the next run clones nothing', async () => {
    const packagesYml = `packages:\n  - git: ${bare}\n    revision: v1.0.0\n`;
    const root = project(packagesYml);
    const hash = packagesSha1(readPackageSpecs(root, { env: {}, cliVars: {} }).specs);
    writeFiles(root, { 'package-lock.yml': `packages:\n- git: ${bare}\n  revision: ${sha.v2}\nsha1_hash: ${hash}\n` });
    const first = await runDeps({ projectDir: root, env: {} }, captureConsole().out);
    assert.equal(first.locked, false, 'the lock matches packages.yml, so it is the source of truth');
    assert.equal(marker(root, 'gitpkg'), 'v2', 'installs the pinned commit, not the tag in packages.yml');
    const second = await runDeps({ projectDir: root, env: {} }, captureConsole().out);
    assert.deepEqual(second.install?.installed, []);
    assert.deepEqual(second.install?.upToDate, ['gitpkg']);
  });

  it('two revisions of one repository are a conflict naming both requirers', async () => {
    const dir = tempDir();
    writeFiles(join(dir, 'shim'), packageFiles('shim', 'shim', `packages:\n  - git: ${bare}\n    revision: v2.0.0\n`));
    const root = writeFiles(join(dir, 'root'), {
      'dbt_project.yml': 'name: shop\nconfig-version: 2\n',
      'packages.yml': `packages:\n  - local: ../shim\n  - git: ${bare.replace(/\.git$/, '')}\n    revision: v1.0.0\n`,
    });
    await assert.rejects(runDeps({ projectDir: root, env: {} }, captureConsole().out), (e: unknown) => {
      assert.ok(e instanceof TsdbtError && e.code === 'package-conflict', String(e));
      assert.match(e.message, /revision v1\.0\.0 by the root project \(packages\.yml:3\) and revision v2\.0\.0 by package shim \(\.\.\/shim\/packages\.yml:2\)/);
      return true;
    });
  });

  it('a secret in the git URL (env_var of DBT_ENV_SECRET_…) is rendered for git, kept as written in the lock, and shown as written in output', async () => {
    const dir = tempDir();
    const name = 'tok3n-s3cr3t-value';
    git(dir, 'clone', '-q', '--bare', bare, join(dir, `${name}.git`));
    const url = `${dir}/{{ env_var('DBT_ENV_SECRET_REPO') }}.git`;
    const root = project(`packages:\n  - git: "${url}"\n    revision: v1.0.0\n`);
    const c = captureConsole();
    await runDeps({ projectDir: root, env: { DBT_ENV_SECRET_REPO: name } }, c.out);
    assert.equal(marker(root, 'gitpkg'), 'v1');
    const lock = readFileSync(join(root, 'package-lock.yml'), 'utf8');
    assert.ok(lock.includes(`git: ${dir}/{{ env_var('DBT_ENV_SECRET_REPO') }}.git`), lock);
    assert.ok(!lock.includes(name));
    assert.ok(!c.text().includes(name), c.text());
    assert.match(c.text(), /Installing .*\{\{ env_var\('DBT_ENV_SECRET_REPO'\) \}\}\.git/);

    // A failing clone through the CLI: exit 1, git's message with the URL as written.
    const bad = project(`packages:\n  - git: "${url}"\n    revision: no-such-tag\n`);
    const r = await tsdbt(bad, ['deps'], { DBT_ENV_SECRET_REPO: name });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /\[git-error\] could not clone .*\{\{ env_var\('DBT_ENV_SECRET_REPO'\) \}\}\.git at revision no-such-tag/);
    assert.ok(!(r.stdout + r.stderr).includes(name), r.stderr);
  });

  it('local packages are symlinked; their own local dependencies resolve from the root project, as dbt resolves them', async () => {
    const dir = tempDir();
    writeFiles(join(dir, 'libs', 'a'), packageFiles('pkg_a', 'a', 'packages:\n  - local: ../libs/b\n'));
    writeFiles(join(dir, 'libs', 'b'), packageFiles('pkg_b', 'b'));
    const root = writeFiles(join(dir, 'root'), { 'dbt_project.yml': 'name: shop\nconfig-version: 2\n', 'packages.yml': 'packages:\n  - local: ../libs/a\n' });
    await runDeps({ projectDir: root, env: {} }, captureConsole().out);
    assert.ok(lstatSync(join(root, 'dbt_packages', 'pkg_a')).isSymbolicLink());
    assert.equal(marker(root, 'pkg_a'), 'a');
    assert.equal(marker(root, 'pkg_b'), 'b');
    assert.equal(readFileSync(join(root, 'package-lock.yml'), 'utf8').split('sha1_hash')[0],
      'packages:\n  - local: ../libs/a\n    name: pkg_a\n  - local: ../libs/b\n    name: pkg_b\n');
  });
});
