/**
 * What `npm pack` ships: the built CLI and API (dist/), their types, bin/,
 * the sources the bundle refers to (src/, without tests), README and LICENSE —
 * never the example project, fixtures, tests, benchmarks or a profiles.yml.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { REPO_ROOT } from '../integration/harness.ts';

it('npm pack --dry-run lists dist/ (CLI, API, types) and bin/, and no fixtures, tests or profiles', () => {
  const r = spawnSync('npm', ['pack', '--dry-run', '--json'], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 300_000 });
  assert.equal(r.status, 0, r.stderr);
  const json = r.stdout.slice(r.stdout.indexOf('['));
  const files: string[] = JSON.parse(json)[0].files.map((f: { path: string }) => f.path);
  for (const must of ['dist/tsdbt.mjs', 'dist/index.mjs', 'dist/types/index.d.ts', 'bin/tsdbt.mjs', 'src/cli/main.ts', 'README.md', 'LICENSE', 'package.json']) {
    assert.ok(files.includes(must), `${must} is packed`);
  }
  const unwanted = files.filter((f) => /^(tests|models|seeds|macros|bench|scripts|\.ci)\/|fixtures|testing\.ts$|write-project|profiles(\.example)?\.yml$|dbt_project\.yml$|\.test\.ts$|\.bench\.ts$/.test(f));
  assert.deepEqual(unwanted, []);
});
