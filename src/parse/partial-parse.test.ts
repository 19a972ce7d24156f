/**
 * Partial parsing: an unchanged project reuses every file's entry; a changed,
 * added or deleted file, a changed dbt_project.yml, --vars, macro, properties
 * file or environment variable is seen.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync, unlinkSync, utimesSync, existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execFileSync } from 'node:child_process';
import { loadProjectConfig } from '../config/index.ts';
import type { TargetConfig } from '../config/types.ts';
import { parseProject, type ParseResult } from './parse-project.ts';
import { PARTIAL_PARSE_FILE } from './partial-parse.ts';

const target: TargetConfig = { name: 'dev', profileName: 'shop', type: 'postgres', schema: 'analytics', threads: 1, dbname: 'test', extra: {}, source: 'test' };

function project(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'tsdbt-pp-'));
  write(dir, { 'dbt_project.yml': 'name: shop\nprofile: shop\nconfig-version: 2\n', ...files });
  return dir;
}

function write(dir: string, files: Record<string, string>): void {
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, p)), { recursive: true });
    writeFileSync(join(dir, p), text);
  }
}

function parse(dir: string, opts: { vars?: Record<string, unknown>; env?: NodeJS.ProcessEnv; partialParse?: boolean } = {}): ParseResult {
  const p = loadProjectConfig(dir, { vars: opts.vars ?? {} });
  return parseProject({ project: p, target, cliVars: opts.vars ?? {}, invocationId: 'i', env: opts.env ?? {}, partialParse: opts.partialParse });
}

/** Files written less than 100 ms before a parse are re-read next time (racy): wait them out. */
const settle = () => sleep(150);

const deps = (r: ParseResult, name: string) => r.manifest.nodes[`model.shop.${name}`]?.depends_on.nodes;

const base = {
  'models/a.sql': 'select 1 as id\n',
  'models/b.sql': "{{ config(materialized='table') }}\nselect * from {{ ref('a') }}\n",
  'models/c.sql': "{% set n = 2 %}select {{ n }} as x from {{ ref('b') }} -- {{ var('v', 'dflt') }} {{ env_var('PP_ENV', 'none') }}\n",
  'models/schema.yml': 'version: 2\nmodels:\n  - name: a\n    description: first\n    columns:\n      - name: id\n        tests: [unique]\n',
};

test('an unchanged project reuses every file, and the manifest is the same', async () => {
  const dir = project(base);
  try {
    await settle();
    const r1 = parse(dir);
    assert.equal(r1.partialParse.loaded, false);
    assert.equal(r1.partialParse.parsed, 3);
    assert.ok(existsSync(join(dir, 'target', PARTIAL_PARSE_FILE)));
    const r2 = parse(dir);
    assert.equal(r2.partialParse.loaded, true);
    assert.equal(r2.partialParse.reusedUnread, 3);
    assert.equal(r2.partialParse.parsed, 0);
    const strip = (r: ParseResult) => JSON.parse(JSON.stringify(r.manifest.nodes, (k, v) => (k === 'created_at' ? undefined : v)));
    assert.deepEqual(strip(r2), strip(r1));
    assert.deepEqual([...r2.staticCalls.keys()].sort(), [...r1.staticCalls.keys()].sort());
    assert.equal(r2.manifest.nodes['model.shop.b'].config.materialized, 'table');
    assert.equal(r2.manifest.nodes['model.shop.a'].description, 'first');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a changed file is parsed again: new refs, new config, new checksum', async () => {
  const dir = project(base);
  try {
    await settle();
    const r1 = parse(dir);
    write(dir, { 'models/b.sql': "{{ config(materialized='view') }}\nselect * from {{ ref('a') }} join {{ ref('d') }} using (id)\n", 'models/d.sql': 'select 2 as id\n' });
    await settle();
    const r2 = parse(dir);
    assert.deepEqual(deps(r2, 'b'), ['model.shop.a', 'model.shop.d']);
    assert.equal(r2.manifest.nodes['model.shop.b'].config.materialized, 'view');
    assert.notEqual(r2.manifest.nodes['model.shop.b'].checksum.checksum, r1.manifest.nodes['model.shop.b'].checksum.checksum);
    assert.equal(r2.partialParse.parsed, 2); // b changed, d is new
    assert.equal(r2.partialParse.reusedUnread, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a changed file of the same size and mtime is still seen (ctime)', async () => {
  const dir = project(base);
  try {
    await settle();
    parse(dir);
    const p = join(dir, 'models/b.sql');
    const before = readFileSync(p, 'utf8');
    const after = before.replace("ref('a')", "ref('c')");
    assert.equal(after.length, before.length);
    const st = statSync(p);
    const ref = join(dir, 'mtime-ref');
    execFileSync('touch', ['-r', p, ref]); // keeps the exact (nanosecond) times
    writeFileSync(p, after);
    execFileSync('touch', ['-r', ref, p]);
    assert.equal(statSync(p).mtimeMs, st.mtimeMs, 'precondition: the mtime was restored');
    // c refs b, b now refs c: a cycle only the graph stage reports; the parse must show the new ref
    await settle();
    const r = parse(dir);
    assert.deepEqual(deps(r, 'b'), ['model.shop.c']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a deleted file is dropped, from the manifest and from the cache', async () => {
  const dir = project({ ...base, 'models/e.sql': 'select 5 as id\n' });
  try {
    await settle();
    parse(dir);
    unlinkSync(join(dir, 'models/e.sql'));
    const r = parse(dir);
    assert.equal(r.manifest.nodes['model.shop.e'], undefined);
    const cache = JSON.parse(readFileSync(join(dir, 'target', PARTIAL_PARSE_FILE), 'utf8'));
    assert.equal(cache.files['models/e.sql'], undefined);
    assert.ok(cache.files['models/a.sql']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a deleted file that others ref makes the next parse fail with ref-not-found', async () => {
  const dir = project(base);
  try {
    await settle();
    parse(dir);
    unlinkSync(join(dir, 'models/a.sql'));
    assert.throws(() => parse(dir), /refers to 'a', which does not exist/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('touching a file without changing it re-reads it but reuses its entry', async () => {
  const dir = project(base);
  try {
    await settle();
    parse(dir);
    const t = new Date(Date.now() - 10_000);
    utimesSync(join(dir, 'models/c.sql'), t, t);
    await settle();
    const r = parse(dir);
    assert.equal(r.partialParse.reusedRead, 1);
    assert.equal(r.partialParse.parsed, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--vars, dbt_project.yml and macros invalidate everything', async () => {
  const dir = project(base);
  try {
    await settle();
    parse(dir);
    const withVars = parse(dir, { vars: { v: 'from-cli' } });
    assert.equal(withVars.partialParse.loaded, false);
    assert.equal(withVars.partialParse.parsed, 3);
    const again = parse(dir, { vars: { v: 'from-cli' } });
    assert.equal(again.partialParse.loaded, true);

    write(dir, { 'dbt_project.yml': 'name: shop\nprofile: shop\nconfig-version: 2\nmodels:\n  shop:\n    +materialized: table\n' });
    const r = parse(dir, { vars: { v: 'from-cli' } });
    assert.equal(r.partialParse.loaded, false);
    assert.equal(r.manifest.nodes['model.shop.a'].config.materialized, 'table');

    write(dir, { 'macros/m.sql': '{% macro my_macro() %}1{% endmacro %}\n' });
    const r2 = parse(dir, { vars: { v: 'from-cli' } });
    assert.equal(r2.partialParse.loaded, false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a rendered file is rendered again when an environment variable it read changes', async () => {
  const dir = project({
    ...base,
    'models/c.sql': "{{ config(materialized=env_var('PP_MAT', 'view')) }}{% if true %}select * from {{ ref('b') }}{% endif %}\n",
  });
  try {
    await settle();
    const r1 = parse(dir, { env: {} });
    assert.equal(r1.manifest.nodes['model.shop.c'].config.materialized, 'view');
    const r2 = parse(dir, { env: {} });
    assert.equal(r2.partialParse.reusedUnread, 3);
    const r3 = parse(dir, { env: { PP_MAT: 'table' } });
    assert.equal(r3.manifest.nodes['model.shop.c'].config.materialized, 'table');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a properties change is seen: config for rendered files, descriptions, tests', async () => {
  const dir = project({
    ...base,
    'models/c.sql': "{% if config.get('materialized') == 'table' %}select 1 as t{% else %}select * from {{ ref('b') }}{% endif %}\n",
  });
  try {
    await settle();
    const r1 = parse(dir);
    assert.deepEqual(deps(r1, 'c'), ['model.shop.b']);
    write(dir, {
      'models/schema.yml':
        'version: 2\nmodels:\n  - name: a\n    description: changed\n    columns:\n      - name: id\n        tests: [unique, not_null]\n  - name: c\n    config:\n      materialized: table\n',
    });
    await settle();
    const r2 = parse(dir);
    assert.equal(r2.manifest.nodes['model.shop.a'].description, 'changed');
    assert.deepEqual(deps(r2, 'c'), []);
    assert.ok(Object.keys(r2.manifest.nodes).some((id) => id.startsWith('test.shop.not_null_a_id')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('partialParse: false neither reads nor writes the cache', async () => {
  const dir = project(base);
  try {
    const r = parse(dir, { partialParse: false });
    assert.equal(r.partialParse.loaded, false);
    assert.equal(existsSync(join(dir, 'target', PARTIAL_PARSE_FILE)), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a corrupt cache file counts as none', async () => {
  const dir = project(base);
  try {
    mkdirSync(join(dir, 'target'), { recursive: true });
    writeFileSync(join(dir, 'target', PARTIAL_PARSE_FILE), '{not json');
    const r = parse(dir);
    assert.equal(r.partialParse.loaded, false);
    assert.equal(r.partialParse.parsed, 3);
    assert.deepEqual(deps(r, 'b'), ['model.shop.a']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
