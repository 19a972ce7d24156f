/**
 * `tsdbt deps` with hub and tarball packages, served by a local HTTP server
 * (DBT_PACKAGE_HUB_URL points dbt — and tsdbt — at it). Follows dbt-core's
 * tests/functional/dependencies (test_dependency_options.py: --lock, --add-package).
 */
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runDeps } from '../../src/deps/index.ts';
import { TsdbtError } from '../../src/errors.ts';
import { captureConsole, packageFiles, publishHub, startServer, tempDir, writeFiles, type TestServer } from './helpers.ts';

let server: TestServer;
let env: NodeJS.ProcessEnv;

function project(packagesYml: string, extra: Record<string, string> = {}): string {
  return writeFiles(tempDir(), { 'dbt_project.yml': 'name: shop\nprofile: shop\nconfig-version: 2\n', 'packages.yml': packagesYml, ...extra });
}

function marker(root: string, name: string): string {
  return /'([^']*)'/.exec(readFileSync(join(root, 'dbt_packages', name, 'macros', `${name}_marker.sql`), 'utf8'))![1];
}

const UTILS_RANGE = 'packages:\n  - package: dbt-labs/dbt_utils\n    version: [">=1.0.0", "<2.0.0"]\n';

async function publishDefault(): Promise<void> {
  await publishHub(server, {
    'dbt-labs/dbt_utils': {
      '0.9.0': { files: packageFiles('dbt_utils', 'utils 0.9.0') },
      '1.0.0': { files: packageFiles('dbt_utils', 'utils 1.0.0') },
      '1.1.0': { files: packageFiles('dbt_utils', 'utils 1.1.0') },
      '1.2.0-rc1': { files: packageFiles('dbt_utils', 'utils 1.2.0-rc1') },
      '1.9.0': { files: packageFiles('dbt_utils', 'utils 1.9.0'), require: ['>=9.0.0'] },
      '2.0.0': { files: packageFiles('dbt_utils', 'utils 2.0.0') },
    },
    'acme/audit': {
      '0.1.0': { files: packageFiles('audit', 'audit 0.1.0'), deps: [{ package: 'dbt-labs/dbt_utils', version: ['>=1.0.0', '<3.0.0'] }] },
      '0.2.0': { files: packageFiles('audit', 'audit 0.2.0'), deps: [{ package: 'dbt-labs/dbt_utils', version: ['>=2.0.0'] }] },
    },
  });
}

describe('tsdbt deps: hub packages from a local dbt Hub', () => {
  before(async () => {
    server = await startServer();
    env = { ...process.env, DBT_PACKAGE_HUB_URL: server.url };
  });
  after(() => server.close());
  beforeEach(async () => {
    server.routes.clear();
    server.requests.length = 0;
    await publishDefault();
  });

  it('installs the highest version inside the range and writes package-lock.yml as dbt does', async () => {
    const root = project(UTILS_RANGE);
    const c = captureConsole();
    await runDeps({ projectDir: root, env }, c.out);
    assert.equal(marker(root, 'dbt_utils'), 'utils 1.1.0');
    const lock = readFileSync(join(root, 'package-lock.yml'), 'utf8');
    assert.match(lock, /^packages:\n  - name: dbt_utils\n    package: dbt-labs\/dbt_utils\n    version: 1\.1\.0\nsha1_hash: [0-9a-f]{40}\n$/);
    assert.match(c.text(), /Installing dbt-labs\/dbt_utils\n {2}Installed from version 1\.1\.0\n {2}Updated version available: 2\.0\.0/);
    assert.deepEqual(server.requests, ['/api/v1/index.json', '/api/v1/dbt-labs/dbt_utils.json', '/tarballs/dbt-labs/dbt_utils/1.1.0.tar.gz']);
  });

  it('honours package-lock.yml: a second run makes no HTTP request; a newer release is ignored until --upgrade', async () => {
    const root = project(UTILS_RANGE);
    await runDeps({ projectDir: root, env }, captureConsole().out);
    const lock1 = readFileSync(join(root, 'package-lock.yml'), 'utf8');
    server.requests.length = 0;

    // dbt-labs publishes 1.5.0 — inside the range, but the lock pins 1.1.0.
    const hub = server.routes.get('/api/v1/dbt-labs/dbt_utils.json') as { versions: Record<string, Record<string, unknown>> };
    hub.versions['1.5.0'] = { ...hub.versions['1.1.0'], version: '1.5.0', downloads: { tarball: `${server.url}tarballs/dbt-labs/dbt_utils/1.5.0.tar.gz` } };
    server.routes.set('/tarballs/dbt-labs/dbt_utils/1.5.0.tar.gz', server.routes.get('/tarballs/dbt-labs/dbt_utils/2.0.0.tar.gz')!);

    const c = captureConsole();
    const r = await runDeps({ projectDir: root, env }, c.out);
    assert.deepEqual(server.requests, [], 'the lock matches what is installed: no network call');
    assert.equal(r.locked, false);
    assert.equal(readFileSync(join(root, 'package-lock.yml'), 'utf8'), lock1);
    assert.equal(marker(root, 'dbt_utils'), 'utils 1.1.0');
    assert.match(c.text(), /All 1 package\(s\) in dbt_packages\/ match package-lock.yml: nothing to install/);

    const u = await runDeps({ projectDir: root, env, upgrade: true }, captureConsole().out);
    assert.equal(u.locked, true);
    assert.ok(server.requests.length > 0);
    assert.match(readFileSync(join(root, 'package-lock.yml'), 'utf8'), /version: 1\.5\.0/);
    assert.equal(marker(root, 'dbt_utils'), 'utils 2.0.0'); // the 1.5.0 tarball the test serves
  });

  it('installs exactly what the lock pins when dbt_packages/ is missing (fresh clone), and re-resolves when packages.yml changes', async () => {
    const root = project(UTILS_RANGE);
    await runDeps({ projectDir: root, env }, captureConsole().out);
    const { rmSync } = await import('node:fs');
    rmSync(join(root, 'dbt_packages'), { recursive: true });
    server.requests.length = 0;
    const r = await runDeps({ projectDir: root, env }, captureConsole().out);
    assert.equal(r.locked, false);
    assert.equal(marker(root, 'dbt_utils'), 'utils 1.1.0');
    assert.ok(!server.requests.includes('/api/v1/index.json'), 'installing from the lock needs no index lookup');

    writeFileSync(join(root, 'packages.yml'), 'packages:\n  - package: dbt-labs/dbt_utils\n    version: 1.0.0\n');
    const r2 = await runDeps({ projectDir: root, env }, captureConsole().out);
    assert.equal(r2.locked, true);
    assert.equal(marker(root, 'dbt_utils'), 'utils 1.0.0');
  });

  it('resolves transitive dependencies into the lock (root first, then what packages require)', async () => {
    const root = project('packages:\n  - package: acme/audit\n    version: 0.1.0\n');
    await runDeps({ projectDir: root, env }, captureConsole().out);
    assert.deepEqual(readdirSync(join(root, 'dbt_packages')).filter((n) => !n.startsWith('.')).sort(), ['audit', 'dbt_utils']);
    assert.equal(marker(root, 'dbt_utils'), 'utils 2.0.0');
    const lock = readFileSync(join(root, 'package-lock.yml'), 'utf8');
    assert.match(lock, /- name: audit\n {4}package: acme\/audit\n {4}version: 0\.1\.0\n {2}- name: dbt_utils\n {4}package: dbt-labs\/dbt_utils\n {4}version: 2\.0\.0\n/);
  });

  it('a version range conflict is one error naming both requirers; nothing is written', async () => {
    const root = project('packages:\n  - package: dbt-labs/dbt_utils\n    version: [">=1.0.0", "<2.0.0"]\n  - package: acme/audit\n    version: 0.2.0\n');
    await assert.rejects(runDeps({ projectDir: root, env }, captureConsole().out), (e: unknown) => {
      assert.ok(e instanceof TsdbtError);
      assert.equal(e.code, 'package-conflict');
      assert.match(e.message, /version error for package dbt-labs\/dbt_utils/);
      assert.match(e.message, /\[">=1\.0\.0", "<2\.0\.0"\] by the root project \(packages\.yml:2\)/);
      assert.match(e.message, /\[">=2\.0\.0"\] by package audit@0\.2\.0/);
      return true;
    });
    assert.ok(!existsSync(join(root, 'package-lock.yml')));
  });

  it('skips versions whose require_dbt_version excludes the dbt version tsdbt reports, and pre-releases unless asked', async () => {
    const root = project('packages:\n  - package: dbt-labs/dbt_utils\n    version: [">=1.1.0", "<2.0.0"]\n');
    await runDeps({ projectDir: root, env }, captureConsole().out);
    assert.equal(marker(root, 'dbt_utils'), 'utils 1.1.0'); // not 1.9.0 (needs dbt >= 9), not 1.2.0-rc1
    const pre = project('packages:\n  - package: dbt-labs/dbt_utils\n    version: [">=1.1.0", "<1.5.0"]\n    install-prerelease: true\n');
    await runDeps({ projectDir: pre, env }, captureConsole().out);
    assert.equal(marker(pre, 'dbt_utils'), 'utils 1.2.0-rc1');
  });

  it('an unknown hub package and an unpublished version are clear errors', async () => {
    await assert.rejects(runDeps({ projectDir: project('packages:\n  - package: nobody/nothing\n    version: 1.0.0\n'), env }, captureConsole().out),
      /package nobody\/nothing was not found in the package index/);
    await assert.rejects(runDeps({ projectDir: project('packages:\n  - package: dbt-labs/dbt_utils\n    version: 3.0.0\n'), env }, captureConsole().out),
      (e: unknown) => e instanceof TsdbtError && e.code === 'package-version-not-found' && /requested 3\.0\.0/.test(e.message) && /compatible versions on the hub: 0\.9\.0, 1\.0\.0, 1\.1\.0, 2\.0\.0/.test(e.message));
  });

  it("warns, as dbt's package-redirect deprecation, when the hub says a package moved", async () => {
    const json = server.routes.get('/api/v1/dbt-labs/dbt_utils.json') as Record<string, unknown>;
    server.routes.set('/api/v1/dbt-labs/dbt_utils.json', { ...json, redirectnamespace: 'dbt-community' });
    const c = captureConsole();
    await runDeps({ projectDir: project(UTILS_RANGE), env }, c.out);
    assert.match(c.text(), /The package dbt-labs\/dbt_utils is deprecated in favor of dbt-community\/dbt_utils/);
  });

  it('--lock writes package-lock.yml and installs nothing', async () => {
    const root = project(UTILS_RANGE);
    const r = await runDeps({ projectDir: root, env, lockOnly: true }, captureConsole().out);
    assert.equal(r.locked, true);
    assert.ok(existsSync(join(root, 'package-lock.yml')));
    assert.ok(!existsSync(join(root, 'dbt_packages')));
    assert.ok(!server.requests.some((p) => p.endsWith('.tar.gz')), 'no tarball downloaded');
  });

  it("--add-package adds the entry to packages.yml (keeping comments) and installs; a previous entry for it is replaced", async () => {
    const root = project('# our packages\npackages:\n  - package: acme/audit\n    version: 0.1.0 # pinned\n  - package: dbt-labs/dbt_utils\n    version: 0.9.0\n');
    const c = captureConsole();
    await runDeps({ projectDir: root, env, addPackage: 'dbt-labs/dbt_utils@1.0.0', source: 'hub' }, c.out);
    assert.equal(readFileSync(join(root, 'packages.yml'), 'utf8'),
      '# our packages\npackages:\n  - package: acme/audit\n    version: 0.1.0 # pinned\n  - package: dbt-labs/dbt_utils\n    version: 1.0.0\n');
    // audit 0.1.0 accepts dbt_utils >=1.0.0,<3.0.0 and the root pins 1.0.0.
    assert.equal(marker(root, 'dbt_utils'), 'utils 1.0.0');
    assert.match(c.text(), /Added dbt-labs\/dbt_utils@1\.0\.0 to packages\.yml/);

    const fresh = writeFiles(tempDir(), { 'dbt_project.yml': 'name: shop\nconfig-version: 2\n' });
    await runDeps({ projectDir: fresh, env, addPackage: 'dbt-labs/dbt_utils@>=1.0.0,<2.0.0', lockOnly: true }, captureConsole().out);
    assert.equal(readFileSync(join(fresh, 'packages.yml'), 'utf8'), "packages:\n  - package: dbt-labs/dbt_utils\n    version:\n      - '>=1.0.0'\n      - <2.0.0\n");
    assert.match(readFileSync(join(fresh, 'package-lock.yml'), 'utf8'), /version: 1\.1\.0/);
    assert.ok(!existsSync(join(fresh, 'dbt_packages')));

    await assert.rejects(runDeps({ projectDir: fresh, env, addPackage: 'dbt-labs/dbt_utils' }, captureConsole().out), /--add-package needs a version when --source is hub/);
  });

  it('a tarball: package is downloaded, unpacked under its name:, and pinned by URL in the lock', async () => {
    const { makeTarball } = await import('./helpers.ts');
    server.routes.set('/files/expectations-0.9.0.tar.gz', await makeTarball('dbt-expectations-0.9.0', packageFiles('dbt_expectations', 'exp 0.9.0', 'packages:\n  - package: dbt-labs/dbt_utils\n    version: 1.0.0\n')));
    const url = `${server.url}files/expectations-0.9.0.tar.gz`;
    const root = project(`packages:\n  - tarball: ${url}\n    name: dbt_expectations\n`);
    await runDeps({ projectDir: root, env }, captureConsole().out);
    assert.equal(marker(root, 'dbt_expectations'), 'exp 0.9.0');
    assert.equal(marker(root, 'dbt_utils'), 'utils 1.0.0'); // its own dependency
    assert.ok(lstatSync(join(root, 'dbt_packages', 'dbt_expectations')).isDirectory());
    assert.match(readFileSync(join(root, 'package-lock.yml'), 'utf8'), new RegExp(`- name: dbt_expectations\n {4}tarball: ${url.replace(/[.]/g, '\\.')}\n`));
    assert.equal(server.requests.filter((p) => p === '/files/expectations-0.9.0.tar.gz').length, 1, 'downloaded once for resolving and installing');

    const bad = project(`packages:\n  - tarball: ${server.url}files/missing.tar.gz\n    name: x\n`);
    await assert.rejects(runDeps({ projectDir: bad, env }, captureConsole().out), (e: unknown) => e instanceof TsdbtError && e.code === 'deps-download' && /HTTP 404/.test(e.message));
  });

  it("installs dbt-utils 1.4.1 from the hub when the hub serves its GitHub-made archive (pax headers, one top folder)", async () => {
    server.routes.set('/api/v1/index.json', ['dbt-labs/dbt_utils']);
    server.routes.set('/codeload/dbt-utils/1.4.1.tar.gz', readFileSync('/work/shared/third_party/dbt-utils-1.4.1.tar.gz'));
    server.routes.set('/api/v1/dbt-labs/dbt_utils.json', {
      name: 'dbt_utils', namespace: 'dbt-labs', latest: '1.4.1',
      versions: { '1.4.1': { name: 'dbt_utils', packages: [], require_dbt_version: ['>=1.3.0', '<3.0.0'], downloads: { tarball: `${server.url}codeload/dbt-utils/1.4.1.tar.gz` } } },
    });
    const root = project(UTILS_RANGE);
    await runDeps({ projectDir: root, env }, captureConsole().out);
    assert.match(readFileSync(join(root, 'dbt_packages', 'dbt_utils', 'dbt_project.yml'), 'utf8'), /^name: 'dbt_utils'/m);
    assert.ok(existsSync(join(root, 'dbt_packages', 'dbt_utils', 'macros', 'generic_tests', 'equal_rowcount.sql')));
  });
});
