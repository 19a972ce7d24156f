/**
 * Constraints and contracts at parse (contracts.ts), as dbt-core's ModelPatchParser: constraints into
 * the manifest, a version's constraints replacing the model's, dbt's primary-key and contract errors,
 * the view warning; and a test's group taken from the model it tests (groups.ts). No database.
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

const target: TargetConfig = { name: 'dev', profileName: 'shop', type: 'postgres', schema: 'analytics', threads: 1, dbname: 'test', extra: {}, source: 'test' };

function parse(files: Record<string, string>): ParseResult | TsdbtError[] {
  const dir = mkdtempSync(join(tmpdir(), 'tsdbt-contracts-'));
  try {
    for (const [p, text] of Object.entries({ 'dbt_project.yml': 'name: shop\nprofile: shop\nconfig-version: 2\n', ...files })) {
      mkdirSync(dirname(join(dir, p)), { recursive: true });
      writeFileSync(join(dir, p), text);
    }
    try {
      return parseProject({ project: loadProjectConfig(dir, { vars: {} }), target, cliVars: {}, invocationId: 'i', env: {}, partialParse: false });
    } catch (e) {
      if (e instanceof CompileErrors) return [...e.errors];
      if (e instanceof TsdbtError) return [e];
      throw e;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test("a version's constraints replace the model's; column constraints get dbt's defaults", () => {
  const r = parse({
    'models/m_v1.sql': 'select 1 as id',
    'models/m_v2.sql': 'select 1 as id',
    'models/m.yml': [
      'version: 2',
      'models:',
      '  - name: m',
      '    config: {materialized: table, contract: {enforced: true}}',
      '    constraints: [{type: check, expression: "id > 0"}]',
      '    columns:',
      '      - {name: id, data_type: int, constraints: [{type: not_null}]}',
      '    versions:',
      '      - v: 1',
      '      - v: 2',
      '        constraints: [{type: primary_key, columns: [id]}]',
      '',
    ].join('\n'),
  });
  assert.ok(!Array.isArray(r), JSON.stringify(r));
  const nodes = r.manifest.nodes;
  assert.deepEqual(nodes['model.shop.m.v1']!.constraints!.map((c) => c.type), ['check']);
  assert.deepEqual(nodes['model.shop.m.v2']!.constraints!.map((c) => [c.type, c.columns]), [['primary_key', ['id']]]);
  assert.deepEqual(nodes['model.shop.m.v2']!.columns.id!.constraints, [
    { type: 'not_null', name: null, expression: null, warn_unenforced: true, warn_unsupported: true, to: null, to_columns: [] },
  ]);
});

test("primary keys on two columns are dbt's 'Primary key constraint error'", () => {
  const r = parse({
    'models/m.sql': 'select 1 as a, 2 as b',
    'models/m.yml': 'version: 2\nmodels:\n  - name: m\n    columns:\n      - {name: a, constraints: [{type: primary_key}]}\n      - {name: b, constraints: [{type: primary_key}]}\n',
  });
  assert.ok(Array.isArray(r));
  assert.match(r[0]!.message, /Primary key constraint error: \(models\/m\.sql\)\nFound 2 columns \('a', 'b'\) with primary key constraints defined\./);
  assert.equal(r[0]!.file, 'models/m.yml');
});

test('a contract without columns is refused; a contracted view with constraints gets the warning', () => {
  const r = parse({ 'models/m.sql': "{{ config(contract={'enforced': true}) }}\nselect 1 as a" });
  assert.ok(Array.isArray(r));
  assert.match(r[0]!.message, /Contract enforcement failed for: \(models\/m\.sql\)\nConstraints must be defined in a `yml` schema configuration file/);
  const ok = parse({
    'models/v.sql': 'select 1 as a',
    'models/v.yml': 'version: 2\nmodels:\n  - name: v\n    config: {contract: {enforced: true}}\n    columns:\n      - {name: a, data_type: int, constraints: [{type: not_null}]}\n',
  });
  assert.ok(!Array.isArray(ok));
  assert.ok(ok.warnings.some((w) => /Constraint types are not supported for view materializations/.test(w.message)));
});

test('a test on a private model takes its group; a model outside the group may not ref it', () => {
  const files = {
    'models/p.sql': 'select 1 as id',
    'models/p.yml': 'version: 2\ngroups:\n  - {name: g, owner: {name: x}}\nmodels:\n  - name: p\n    access: private\n    group: g\n    columns:\n      - {name: id, data_tests: [unique]}\n',
  };
  assert.ok(!Array.isArray(parse(files)));
  const r = parse({ ...files, 'models/q.sql': "select * from {{ ref('p') }}" });
  assert.ok(Array.isArray(r));
  assert.equal(r.length, 1);
  assert.equal(r[0]!.message, "Node model.shop.q attempted to reference node model.shop.p, which is not allowed because the referenced node is private to the 'g' group.");
});

test("a protected model of a restrict-access package is refused from another package; a public one is allowed (dbt's is_invalid_protected_ref)", () => {
  const files = {
    'dbt_packages/lib/dbt_project.yml': 'name: lib\nconfig-version: 2\nrestrict-access: true\n',
    'dbt_packages/lib/models/inner.sql': 'select 1 as id',
    'dbt_packages/lib/models/outer.sql': "select * from {{ ref('inner') }}",
    'dbt_packages/lib/models/lib.yml': 'version: 2\nmodels:\n  - name: outer\n    access: public\n',
    'models/mine.sql': "select * from {{ ref('outer') }}",
  };
  assert.ok(!Array.isArray(parse(files)), 'a public model, and a protected one inside its own package, may be referenced');
  const r = parse({ ...files, 'models/bad.sql': "select * from {{ ref('lib', 'inner') }}" });
  assert.ok(Array.isArray(r));
  assert.equal(r[0]!.message, "Node model.shop.bad attempted to reference node model.lib.inner, which is not allowed because the referenced node is protected to the 'lib' package.");
  assert.equal(r[0]!.file, 'models/bad.sql');
  const open = parse({ ...files, 'dbt_packages/lib/dbt_project.yml': 'name: lib\nconfig-version: 2\n', 'models/bad.sql': "select * from {{ ref('lib', 'inner') }}" });
  assert.ok(!Array.isArray(open), 'without restrict-access, protected models are visible to other packages');
});

test('metrics and saved queries depend on the semantic model defining their measure and on their metrics (dbt ManifestLoader.process_metrics); a missing measure or metric is an error with file and line', () => {
  const sm = "version: 2\nsemantic_models:\n  - name: orders\n    model: ref('m')\n    entities: [{name: id, type: primary}]\n    measures: [{name: amount, agg: sum}]\n";
  const r = parse({
    'models/m.sql': 'select 1 as id, 2 as amount',
    'models/sm.yml': sm,
    'models/metrics.yml': 'version: 2\nmetrics:\n  - name: revenue\n    label: Revenue\n    type: simple\n    type_params: {measure: amount}\nsaved_queries:\n  - name: weekly\n    query_params: {metrics: [revenue]}\n',
  });
  assert.ok(!Array.isArray(r), Array.isArray(r) ? r.map((e) => e.format()).join('\n') : '');
  const res = r as ParseResult;
  assert.deepEqual(res.manifest.metrics['metric.shop.revenue']!.depends_on.nodes, ['semantic_model.shop.orders']);
  assert.deepEqual(res.manifest.saved_queries['saved_query.shop.weekly']!.depends_on, { macros: [], nodes: ['metric.shop.revenue'] });
  assert.deepEqual(res.warnings.filter((x) => /\[unsupported\]/.test(x.message)), []);
  const bad = parse({
    'models/m.sql': 'select 1 as id',
    'models/sm.yml': sm,
    'models/metrics.yml': 'version: 2\nmetrics:\n  - name: revenue\n    label: Revenue\n    type: simple\n    type_params: {measure: amont}\nsaved_queries:\n  - name: weekly\n    query_params: {metrics: [revnue]}\n',
  });
  assert.ok(Array.isArray(bad));
  assert.deepEqual(bad.map((e) => [e.code, e.file, e.line]), [['measure-not-found', 'models/metrics.yml', 6], ['metric-not-found', 'models/metrics.yml', 9]]);
  assert.match(bad[0]!.message, /metric 'revenue' uses measure 'amont', which no semantic model defines/);
});