/**
 * Issue 10: a custom generic test whose macro body calls ref() or source() gets that edge at
 * parse time, as dbt-core renders every generic test node through its macro in the parse phase
 * (execute false) and records the calls in the test's depends_on. dbt's built-in tests are not
 * rendered (their refs are in the kwargs). Parse level, no database.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { loadProjectConfig } from '../config/index.ts';
import type { TargetConfig } from '../config/types.ts';
import { CompileErrors, TsdbtError } from '../errors.ts';
import { parseProject, type ParseResult } from './parse-project.ts';
import type { ManifestNode } from './manifest.ts';

const target: TargetConfig = { name: 'dev', profileName: 'shop', type: 'postgres', schema: 'analytics', threads: 1, dbname: 'test', extra: {}, source: 'test' };

function withProject(files: Record<string, string>, fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'tsdbt-gtref-'));
  try {
    for (const [p, text] of Object.entries({ 'dbt_project.yml': 'name: shop\nprofile: shop\nconfig-version: 2\n', ...files })) {
      mkdirSync(dirname(join(dir, p)), { recursive: true });
      writeFileSync(join(dir, p), text);
    }
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function parse(dir: string, partialParse = false): ParseResult {
  return parseProject({ project: loadProjectConfig(dir, { vars: {} }), target, cliVars: {}, invocationId: 'i', env: {}, partialParse });
}

function testNamed(r: ParseResult, name: string): ManifestNode {
  const n = Object.values(r.manifest.nodes).find((x) => x.resource_type === 'test' && x.name === name);
  assert.ok(n, `no test node named ${name}; have ${Object.values(r.manifest.nodes).map((x) => x.name).join(', ')}`);
  return n;
}

const BASE = {
  'models/a.sql': 'select 1 as id\n',
  'models/b.sql': 'select 1 as id\n',
  'macros/same_count_as.sql': "{% test same_count_as(model) %}select 1 from (select count(*) n from {{ model }}) x where n <> (select count(*) from {{ ref('b') }}){% endtest %}\n",
  'tests/generic/same_count_as_source.sql':
    "{% test same_count_as_source(model, column_name) %}select 1 from (select count({{ column_name }}) n from {{ model }}) x where n <> (select count(*) from {{ source('raw', 'events') }}){% endtest %}\n",
  'models/schema.yml': [
    'version: 2',
    'sources:',
    '  - name: raw',
    '    tables:',
    '      - name: events',
    'models:',
    '  - name: a',
    '    data_tests:',
    '      - same_count_as',
    '    columns:',
    '      - name: id',
    '        data_tests:',
    '          - same_count_as_source',
    '          - not_null',
    '',
  ].join('\n'),
};

test('a custom generic test whose macro calls ref() depends on that model (dbt renders generic tests at parse)', () => {
  withProject(BASE, (dir) => {
    const t = testNamed(parse(dir), 'same_count_as_a_');
    assert.deepEqual([...t.depends_on.nodes].sort(), ['model.shop.a', 'model.shop.b']);
    assert.deepEqual(t.refs.map((r) => r.name).sort(), ['a', 'b']);
  });
});

test('a custom generic test whose macro calls source() depends on that source', () => {
  withProject(BASE, (dir) => {
    const t = testNamed(parse(dir), 'same_count_as_source_a_id');
    assert.deepEqual([...t.depends_on.nodes].sort(), ['model.shop.a', 'source.shop.raw.events']);
    assert.deepEqual(t.sources, [['raw', 'events']]);
  });
});

test('built-in generic tests keep only the edges of their kwargs', () => {
  withProject(BASE, (dir) => {
    assert.deepEqual(testNamed(parse(dir), 'not_null_a_id').depends_on.nodes, ['model.shop.a']);
  });
});

test('a project override of a built-in test (test_not_null in macros/) is rendered: its ref() is an edge', () => {
  const files = { ...BASE, 'macros/not_null.sql': "{% test not_null(model, column_name) %}select * from {{ model }} where {{ column_name }} is null and 1 = (select 1 from {{ ref('b') }} limit 1){% endtest %}\n" };
  withProject(files, (dir) => {
    assert.deepEqual([...testNamed(parse(dir), 'not_null_a_id').depends_on.nodes].sort(), ['model.shop.a', 'model.shop.b']);
  });
});

test('an unknown ref in a custom test macro is ref-not-found at the properties file line', () => {
  const files = { ...BASE, 'macros/same_count_as.sql': "{% test same_count_as(model) %}select 1 from {{ ref('nope') }}{% endtest %}\n" };
  withProject(files, (dir) => {
    let errors: TsdbtError[] = [];
    try {
      parse(dir);
      assert.fail('expected the parse to fail');
    } catch (e) {
      if (e instanceof CompileErrors) errors = [...e.errors];
      else if (e instanceof TsdbtError) errors = [e];
      else throw e;
    }
    const e = errors.find((x) => x.code === 'ref-not-found');
    assert.ok(e, errors.map((x) => x.message).join('\n'));
    assert.match(e.message, /'nope'/);
    assert.equal(e.file, 'models/schema.yml');
    assert.equal(e.line, 7);
  });
});

test('partial parsing: changing the test macro to ref another model changes the edge', () => {
  withProject({ ...BASE, 'models/c.sql': 'select 1 as id\n' }, (dir) => {
    assert.ok(testNamed(parse(dir, true), 'same_count_as_a_').depends_on.nodes.includes('model.shop.b'));
    writeFileSync(join(dir, 'macros/same_count_as.sql'), "{% test same_count_as(model) %}select 1 from {{ model }} where 0 = (select count(*) from {{ ref('c') }}){% endtest %}\n");
    const r = parse(dir, true);
    assert.deepEqual([...testNamed(r, 'same_count_as_a_').depends_on.nodes].sort(), ['model.shop.a', 'model.shop.c']);
  });
});
