/**
 * Differential test of the static fast path (static-extract.ts, dbt's static
 * parser): every model it takes must parse and compile exactly as the full
 * nunjucks render does. Each project is parsed twice, with the static parser
 * (default) and without it (`staticParser: false`, dbt's `--no-static-parser`),
 * and for every node the fast path took, the manifest node (all fields but
 * `created_at`) and the compiled SQL must be identical.
 *
 * Corpora: the example project at the repository root, dbt-utils 1.4.1's
 * integration_tests (unpacked from ../shared/third_party, with dbt_utils
 * installed by `tsdbt deps`), and a generated 300-model project
 * (bench/generate-project.ts). No database: only nodes that need none are
 * compiled, which every fast-path node is.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadProfile, loadProjectConfig } from '../config/index.ts';
import { compileNodes } from '../compile/compile.ts';
import { parseProject } from './parse-project.ts';
import { generateProject } from '../../bench/generate-project.ts';

const REPO = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const TARBALL = join(REPO, '..', 'shared', 'third_party', 'dbt-utils-1.4.1.tar.gz');

/** A profiles.yml for `profile` with a postgres target that is never connected to. */
function profilesDir(profile: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'tsdbt-static-profiles-'));
  writeFileSync(
    join(dir, 'profiles.yml'),
    `${profile}:\n  target: pg\n  outputs:\n    pg:\n      type: postgres\n      host: 127.0.0.1\n      port: 5432\n      user: postgres\n      dbname: test\n      schema: static_diff\n      threads: 1\n`,
  );
  return dir;
}

/**
 * Parses `dir` with and without the static parser and compares every node the
 * fast path took. Returns how many nodes were compared.
 */
function compareBothWays(dir: string, profile: string): number {
  const profiles = profilesDir(profile);
  try {
    const env = { ...process.env, DBT_PARTIAL_PARSE: 'false' };
    const project = loadProjectConfig(dir, { vars: {} });
    const { target } = loadProfile(project, { profilesDir: profiles, env });
    const parse = (staticParser: boolean) =>
      parseProject({ project, target, cliVars: {}, invocationId: 'static-diff', env, partialParse: false, versionCheck: false, staticParser });
    const fast = parse(true);
    const full = parse(false);
    assert.equal(full.staticCalls.size, 0, 'with the static parser off, no node may take the fast path');
    const ids = [...fast.staticCalls.keys()];
    assert.deepEqual(Object.keys(full.manifest.nodes).sort(), Object.keys(fast.manifest.nodes).sort(), 'the same nodes either way');
    for (const id of ids) {
      const { created_at: _a, ...a } = fast.manifest.nodes[id] as unknown as Record<string, unknown>;
      const { created_at: _b, ...b } = full.manifest.nodes[id] as unknown as Record<string, unknown>;
      assert.deepEqual(a, b, `${id}: the manifest node differs between the static path and the full render`);
    }
    const ctx = (parsed: typeof fast) => ({ project, parsed, target, cliVars: {}, invocationId: 'static-diff', fullRefresh: false, relations: new Map() });
    const fastSql = compileNodes(ctx(fast), ids);
    const fullSql = compileNodes(ctx(full), ids);
    for (const id of ids) {
      const sql = fastSql.get(id)?.compiledCode;
      assert.ok(typeof sql === 'string' && sql.trim() !== '', `${id}: compiled on the fast path`);
      assert.equal(sql, fullSql.get(id)?.compiledCode, `${id}: compiled SQL differs between the static path and the full render`);
    }
    process.stderr.write(`# ${dir}: ${ids.length} of ${Object.keys(fast.manifest.nodes).length} nodes took the fast path, identical both ways\n`);
    return ids.length;
  } finally {
    rmSync(profiles, { recursive: true, force: true });
  }
}

test('the example project: every fast-path model parses and compiles as the full render does', () => {
  const n = compareBothWays(REPO, 'growth_analytics');
  assert.ok(n > 0, 'some models of the example project take the fast path');
});

test('a generated 300-model project (refs, sources, config with lists): identical both ways', () => {
  const dir = generateProject(mkdtempSync(join(tmpdir(), 'tsdbt-static-gen-')), 300);
  try {
    assert.equal(compareBothWays(dir, 'bench'), 300);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('line endings: CRLF, a lone CR, no final newline, two final newlines: identical both ways', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsdbt-static-eol-'));
  try {
    const files: Record<string, string> = {
      'dbt_project.yml': 'name: eol\nprofile: eol\nconfig-version: 2\n',
      'models/a.sql': 'select 1 as id\r\n',
      'models/b.sql': "{{ config(materialized='table') }}\r\nselect * from {{ ref('a') }}\r\nwhere id = 1\r\n",
      'models/c.sql': "select * from {{ ref('b') }}\rwhere true",
      'models/d.sql': "select * from {{ ref('c') }}\n\n",
      'models/e.sql': "select * from {{ ref('d') }}",
    };
    for (const [f, text] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, f)), { recursive: true });
      writeFileSync(join(dir, f), text);
    }
    assert.equal(compareBothWays(dir, 'eol'), 5);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('dbt-utils 1.4.1 integration_tests: every fast-path model identical both ways', { skip: existsSync(TARBALL) ? false : `${TARBALL} is not here` }, () => {
  const tmp = mkdtempSync(join(tmpdir(), 'tsdbt-static-dbtutils-'));
  try {
    assert.equal(spawnSync('tar', ['-xzf', TARBALL, '-C', tmp]).status, 0);
    const project = join(tmp, readdirSync(tmp)[0], 'integration_tests');
    const deps = spawnSync(process.execPath, [join(REPO, 'bin', 'tsdbt.mjs'), 'deps', '--profiles-dir', project], { cwd: project, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    assert.equal(deps.status, 0, `${deps.stdout}${deps.stderr}`);
    const n = compareBothWays(project, 'integration_tests');
    assert.ok(n > 0, 'some dbt-utils integration models take the fast path');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
