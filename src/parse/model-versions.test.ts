/**
 * Issue 10, model versions at parse level (no database), as dbt-core 1.x's ModelPatchParser,
 * RefableLookup, parse_versioned_tests and check_for_model_deprecations make them: which file
 * defines which version, unique_ids `model.<p>.<m>.v<v>`, fqn, `<m>_v<v>` relations, columns
 * include/exclude, tests per version, ref() with v=/version=, deprecation warnings, and the
 * errors for an unknown version or a bad `versions:` block.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { loadProjectConfig } from '../config/index.ts';
import type { TargetConfig } from '../config/types.ts';
import { CompileErrors, TsdbtError } from '../errors.ts';
import { buildGraph } from '../graph/build-graph.ts';
import { selectNodes } from '../graph/select.ts';
import { compileNodes } from '../compile/compile.ts';
import { lineageEntry } from '../docs/lineage.ts';
import { parseProject, type ParseResult } from './parse-project.ts';
import { compareVersions, normaliseDeprecationDate, refKey } from './model-versions.ts';

const target: TargetConfig = { name: 'dev', profileName: 'shop', type: 'postgres', schema: 'analytics', threads: 1, dbname: 'test', extra: {}, source: 'test' };

function parse(files: Record<string, string>): ParseResult {
  const dir = mkdtempSync(join(tmpdir(), 'tsdbt-versions-'));
  try {
    for (const [p, text] of Object.entries({ 'dbt_project.yml': 'name: shop\nprofile: shop\nconfig-version: 2\n', ...files })) {
      mkdirSync(dirname(join(dir, p)), { recursive: true });
      writeFileSync(join(dir, p), text);
    }
    return parseProject({ project: loadProjectConfig(dir, { vars: {} }), target, cliVars: {}, invocationId: 'i', env: {}, partialParse: false });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The errors a parse throws (one TsdbtError or CompileErrors). */
function parseErrors(files: Record<string, string>): TsdbtError[] {
  try {
    parse(files);
  } catch (e) {
    if (e instanceof CompileErrors) return [...e.errors];
    if (e instanceof TsdbtError) return [e];
    throw e;
  }
  assert.fail('the parse succeeded');
}

const SCHEMA = [
  'version: 2',
  'models:',
  '  - name: dim_customers',
  '    description: customers',
  '    config:',
  '      materialized: table',
  '    columns:',
  '      - name: id',
  '        data_tests: [unique, not_null]',
  '      - name: country',
  '        data_tests: [not_null]',
  '    versions:',
  '      - v: 2',
  '        description: customers, v2',
  '      - v: 1',
  '        defined_in: dim_customers_old',
  '        config:',
  '          alias: dim_customers',
  '        columns:',
  '          - include: all',
  '            exclude: [country]',
  '          - name: legacy_flag',
  '            data_tests: [not_null]',
  '',
].join('\n');

const FILES = {
  'models/marts/dim_customers_v2.sql': "select 1 as id, 'nl' as country\n",
  'models/marts/dim_customers_old.sql': 'select 1 as id, true as legacy_flag\n',
  'models/marts/schema.yml': SCHEMA,
  'models/uses_v1.sql': "select * from {{ ref('dim_customers', v=1) }}\n",
  'models/uses_version_kw.sql': "select * from {{ ref('dim_customers', version='1') }}\n",
  'models/uses_pkg.sql': "select * from {{ ref('shop', 'dim_customers', v=1) }}\n",
  'models/uses_latest.sql': "{% set r = ref('dim_customers') %}select * from {{ r }}\n",
};

describe('model versions (dbt ModelPatchParser)', () => {
  const r = parse(FILES);
  const nodes = r.manifest.nodes;

  it('each version is a node model.<project>.<model>.v<v>, named after the model, fqn ending v<v>', () => {
    const v1 = nodes['model.shop.dim_customers.v1'];
    const v2 = nodes['model.shop.dim_customers.v2'];
    assert.ok(v1 && v2, Object.keys(nodes).join(', '));
    assert.equal(nodes['model.shop.dim_customers_old'], undefined);
    assert.equal(v1.name, 'dim_customers');
    assert.equal(v2.name, 'dim_customers');
    assert.deepEqual(v1.fqn, ['shop', 'marts', 'dim_customers', 'v1']);
    assert.deepEqual(v2.fqn, ['shop', 'marts', 'dim_customers', 'v2']);
    assert.equal(v1.original_file_path, 'models/marts/dim_customers_old.sql', 'defined_in picks the file');
    assert.equal(v2.original_file_path, 'models/marts/dim_customers_v2.sql', 'the default file is <model>_v<v>.sql');
    assert.equal(v1.version, 1);
    assert.equal(v2.version, 2);
    assert.equal(v1.latest_version, 2, 'latest_version defaults to the greatest v');
    assert.equal(v2.latest_version, 2);
  });

  it('the relation is <model>_v<v> unless the version configures an alias; config is merged over the model entry', () => {
    const v1 = nodes['model.shop.dim_customers.v1'];
    const v2 = nodes['model.shop.dim_customers.v2'];
    assert.equal(v2.alias, 'dim_customers_v2');
    assert.equal(v2.relation_name, '"test"."analytics"."dim_customers_v2"');
    assert.equal(v1.alias, 'dim_customers');
    assert.equal(v1.config.materialized, 'table');
    assert.equal(v2.config.materialized, 'table');
  });

  it('columns: the model columns the version includes, then its own; description per version', () => {
    assert.deepEqual(Object.keys(nodes['model.shop.dim_customers.v2'].columns), ['id', 'country']);
    assert.deepEqual(Object.keys(nodes['model.shop.dim_customers.v1'].columns), ['id', 'legacy_flag']);
    assert.equal(nodes['model.shop.dim_customers.v2'].description, 'customers, v2');
    assert.equal(nodes['model.shop.dim_customers.v1'].description, 'customers');
  });

  it('ref(m, v=1), ref(m, version="1") and ref(pkg, m, v=1) reach v1; ref(m) reaches the latest version', () => {
    for (const m of ['uses_v1', 'uses_version_kw', 'uses_pkg']) assert.deepEqual(nodes[`model.shop.${m}`].depends_on.nodes, ['model.shop.dim_customers.v1'], m);
    assert.deepEqual(nodes['model.shop.uses_latest'].depends_on.nodes, ['model.shop.dim_customers.v2']);
    assert.deepEqual(nodes['model.shop.uses_v1'].refs.map((x) => [x.name, x.version]), [['dim_customers', 1]]);
  });

  it('compiled SQL names each version relation', () => {
    const ids = ['model.shop.uses_v1', 'model.shop.uses_pkg', 'model.shop.uses_latest'];
    const project = loadProjectConfig(mkdtempProject(), { vars: {} });
    const compiled = compileNodes({ parsed: r, target, project, cliVars: {}, invocationId: 'i', fullRefresh: false, relations: new Map() }, ids);
    assert.equal(compiled.get('model.shop.uses_v1')!.compiledCode.trim(), 'select * from "test"."analytics"."dim_customers"');
    assert.equal(compiled.get('model.shop.uses_pkg')!.compiledCode.trim(), 'select * from "test"."analytics"."dim_customers"');
    assert.equal(compiled.get('model.shop.uses_latest')!.compiledCode.trim(), 'select * from "test"."analytics"."dim_customers_v2"');
  });

  it('generic tests are created per version, on the columns each version has, named <test>_<model>_v<v>_<column>', () => {
    const tests = Object.values(nodes).filter((n) => n.resource_type === 'test');
    const byName = new Map(tests.map((t) => [t.name, t]));
    assert.deepEqual([...byName.keys()].sort(), [
      'not_null_dim_customers_v1_id',
      'not_null_dim_customers_v1_legacy_flag',
      'not_null_dim_customers_v2_country',
      'not_null_dim_customers_v2_id',
      'unique_dim_customers_v1_id',
      'unique_dim_customers_v2_id',
    ]);
    const t = byName.get('unique_dim_customers_v1_id')!;
    assert.match(t.unique_id, /^test\.shop\.unique_dim_customers_v1_id\.[0-9a-f]{10}$/);
    assert.equal(t.attached_node, 'model.shop.dim_customers.v1');
    assert.deepEqual(t.depends_on.nodes, ['model.shop.dim_customers.v1']);
    assert.equal(t.test_metadata!.kwargs.model, "{{ get_where_subquery(ref('dim_customers', version='1')) }}");
    assert.equal(t.file_key_name, 'models.dim_customers');
    assert.deepEqual(byName.get('not_null_dim_customers_v2_country')!.depends_on.nodes, ['model.shop.dim_customers.v2']);
  });

  it('the lineage draws each version as m.v<v>', () => {
    assert.equal(lineageEntry(r.manifest, 'model.shop.dim_customers.v1')?.name, 'dim_customers.v1');
    assert.equal(lineageEntry(r.manifest, 'model.shop.uses_v1')?.name, 'uses_v1');
  });

  it('selection: m selects every version, m.v1 and m_v1 one; version:latest|old|none', () => {
    const graph = buildGraph(r.manifest);
    const sel = (s: string) => [...selectNodes(r.manifest, graph, { select: [s], resourceTypes: ['model'] })].sort();
    assert.deepEqual(sel('dim_customers'), ['model.shop.dim_customers.v1', 'model.shop.dim_customers.v2']);
    assert.deepEqual(sel('dim_customers.v1'), ['model.shop.dim_customers.v1']);
    assert.deepEqual(sel('dim_customers_v2'), ['model.shop.dim_customers.v2']);
    assert.deepEqual(sel('version:latest'), ['model.shop.dim_customers.v2']);
    assert.deepEqual(sel('version:old'), ['model.shop.dim_customers.v1']);
    assert.deepEqual(sel('version:none'), ['model.shop.uses_latest', 'model.shop.uses_pkg', 'model.shop.uses_v1', 'model.shop.uses_version_kw']);
    assert.throws(() => sel('version:newest'), /Invalid version type selector newest: expected one of: "latest", "prerelease", "old", or "none"/);
  });
});

function mkdtempProject(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tsdbt-versions-p-'));
  writeFileSync(join(dir, 'dbt_project.yml'), 'name: shop\nprofile: shop\nconfig-version: 2\n');
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe('model versions: latest_version, file lookup, version tests', () => {
  it('latest_version below the greatest v: ref(m) gives latest_version (the newer one is a prerelease)', () => {
    const r = parse({
      'models/m_v1.sql': 'select 1 as id\n',
      'models/m_v2.sql': 'select 2 as id\n',
      'models/down.sql': "select * from {{ ref('m') }}\n",
      'models/schema.yml': 'version: 2\nmodels:\n  - name: m\n    latest_version: 1\n    versions:\n      - v: 1\n      - v: 2\n',
    });
    assert.deepEqual(r.manifest.nodes['model.shop.down'].depends_on.nodes, ['model.shop.m.v1']);
    const graph = buildGraph(r.manifest);
    assert.deepEqual([...selectNodes(r.manifest, graph, { select: ['version:prerelease'] })], ['model.shop.m.v2']);
  });

  it('the latest version may live in <model>.sql; a version without a file is a warning naming the yml line', () => {
    const r = parse({
      'models/m.sql': 'select 3 as id\n',
      'models/m_v1.sql': 'select 1 as id\n',
      'models/schema.yml': 'version: 2\nmodels:\n  - name: m\n    versions:\n      - v: 3\n      - v: 1\n      - v: 0.5\n',
    });
    assert.equal(r.manifest.nodes['model.shop.m.v3'].original_file_path, 'models/m.sql');
    assert.equal(r.manifest.nodes['model.shop.m.v3'].alias, 'm_v3');
    const w = r.warnings.find((x) => x.code === 'patch-unknown-node');
    assert.ok(w, r.warnings.map((x) => x.format()).join('\n'));
    assert.equal(w.file, 'models/schema.yml');
    assert.equal(w.line, 7);
    assert.match(w.message, /version 0\.5 of model 'm', but there is no model file 'm_v0\.5'/);
  });

  it("a version's own tests replace the model's; tests with a version arg in kwargs (relationships to: ref('m', v=1))", () => {
    const r = parse({
      'models/m_v1.sql': 'select 1 as id\n',
      'models/m_v2.sql': 'select 1 as id\n',
      'models/child.sql': 'select 1 as id\n',
      'models/schema.yml': [
        'version: 2',
        'models:',
        '  - name: m',
        '    data_tests:',
        '      - dbt_utils_like_row_count',
        '    versions:',
        '      - v: 1',
        '      - v: 2',
        '        data_tests: []',
        '  - name: child',
        '    columns:',
        '      - name: id',
        '        data_tests:',
        '          - relationships:',
        "              to: ref('m', v=1)",
        '              field: id',
        '',
      ].join('\n'),
      'macros/t.sql': '{% test dbt_utils_like_row_count(model) %}select 1 from {{ model }} where false{% endtest %}\n',
    });
    const tests = Object.values(r.manifest.nodes).filter((n) => n.resource_type === 'test');
    assert.deepEqual(tests.map((t) => t.name).sort(), ['dbt_utils_like_row_count_m_v1_', 'relationships_child_id__id__ref_m_v_1_']);
    const rel = tests.find((t) => t.name.startsWith('relationships'))!;
    assert.deepEqual(rel.depends_on.nodes.sort(), ['model.shop.child', 'model.shop.m.v1']);
  });
});

describe('model versions: errors and warnings', () => {
  it('a ref to an unknown version is ref-not-found naming the file, the line and the versions', () => {
    const errs = parseErrors({
      'models/m_v1.sql': 'select 1 as id\n',
      'models/m_v2.sql': 'select 1 as id\n',
      'models/down.sql': "-- reads m\nselect * from {{ ref('m', v=3) }}\n",
      'models/schema.yml': 'version: 2\nmodels:\n  - name: m\n    versions:\n      - v: 1\n      - v: 2\n',
    });
    assert.equal(errs.length, 1);
    assert.equal(errs[0].code, 'ref-not-found');
    assert.equal(errs[0].file, 'models/down.sql');
    assert.equal(errs[0].line, 2);
    assert.equal(errs[0].message, "model 'down' refers to 'm' with version '3', which does not exist");
    assert.match(errs[0].hint ?? '', /versions of 'm' are: 1, 2/);
  });

  it('latest_version not among the versions, a duplicate v, two include/exclude items: properties-invalid at their lines', () => {
    const errs = parseErrors({
      'models/m_v1.sql': 'select 1 as id\n',
      'models/schema.yml': [
        'version: 2',
        'models:',
        '  - name: m',
        '    latest_version: 4',
        '    versions:',
        '      - v: 1',
        '        columns:',
        '          - include: all',
        '          - include: [id]',
        '      - v: 1',
        '',
      ].join('\n'),
    });
    const lines = errs.map((e) => [e.code, e.line, e.message]);
    assert.deepEqual(lines, [
      ['properties-invalid', 9, "version 1 of model 'm' has more than one include/exclude item in columns:"],
      ['properties-invalid', 10, "Found duplicate version: '1' in versions list of model 'm'"],
      ['properties-invalid', 4, "latest_version: 4 is not one of model 'm' versions: [1]"],
    ]);
  });

  it('deprecation_date: a past date warns on the model and on each model that refs it; a future one warns as upcoming', () => {
    const r = parse({
      'models/m_v1.sql': 'select 1 as id\n',
      'models/m_v2.sql': 'select 1 as id\n',
      'models/down.sql': "\nselect * from {{ ref('m', v=1) }}\n",
      'models/down2.sql': "select * from {{ ref('m') }}\n",
      'models/schema.yml': 'version: 2\nmodels:\n  - name: m\n    versions:\n      - v: 1\n        deprecation_date: 2020-01-01\n      - v: 2\n        deprecation_date: 2999-01-01\n',
    });
    const v1 = r.manifest.nodes['model.shop.m.v1'];
    assert.match(v1.deprecation_date!, /^2020-01-01T00:00:00[+-]\d\d:\d\d$/);
    const byCode = (c: string) => r.warnings.filter((w) => w.code === c);
    assert.equal(byCode('deprecated-model').length, 1);
    assert.match(byCode('deprecated-model')[0].message, /^Model m\.v1 has passed its deprecation date of 2020-01-01T00:00:00.*This model should be disabled or removed\.$/);
    const ref = byCode('deprecated-reference');
    assert.equal(ref.length, 1);
    assert.equal(ref[0].file, 'models/down.sql');
    assert.equal(ref[0].line, 2);
    assert.match(ref[0].message, /^While compiling 'down': Found a reference to m\.v1, which was deprecated on '2020-01-01T00:00:00.*'\. A new version of 'm' is available\. Migrate now: \{\{ ref\('shop', 'm', v='2'\) \}\}\.$/);
    const upcoming = byCode('upcoming-reference-deprecation');
    assert.equal(upcoming.length, 1);
    assert.equal(upcoming[0].file, 'models/down2.sql');
    assert.match(upcoming[0].message, /^While compiling 'down2': Found a reference to m\.v2, which is slated for deprecation on '2999-01-01T00:00:00/);
  });

  it('an unversioned model named like a versioned one is a duplicate-node error', () => {
    const errs = parseErrors({
      'models/m_v1.sql': 'select 1 as id\n',
      'models/m_v2.sql': 'select 1 as id\n',
      'models/m.sql': 'select 1 as id\n',
      'models/schema.yml': 'version: 2\nmodels:\n  - name: m\n    versions:\n      - v: 1\n      - v: 2\n',
    });
    // one per version that clashes with the unversioned file
    assert.deepEqual(errs.map((e) => e.code), ['duplicate-node', 'duplicate-node']);
    assert.match(errs[0].message, /^'m' is defined twice: models\/m\.sql \(model\) and models\/m_v1\.sql \(model\)$/);
  });
});

describe('model-versions helpers', () => {
  it("refKey is dbt's RefableLookup key: versions after .v, 0/''/null unversioned", () => {
    assert.equal(refKey('m', 1), 'm.v1');
    assert.equal(refKey('m', '1'), 'm.v1');
    assert.equal(refKey('m', null), 'm');
    assert.equal(refKey('m', ''), 'm');
    assert.equal(refKey('m', 0), 'm');
  });
  it("compareVersions is UnparsedVersion.__lt__: numeric when both are numbers, else text", () => {
    assert.ok(compareVersions(10, 9) > 0);
    assert.ok(compareVersions('10', 9) > 0);
    assert.ok(compareVersions('1.5', 2) < 0);
    assert.ok(compareVersions('b', 'a') > 0);
    assert.ok(compareVersions('10', 'a') < 0);
  });
  it('normaliseDeprecationDate keeps an explicit offset and rejects text that is not a date', () => {
    assert.equal(normaliseDeprecationDate('2024-03-01T10:00:00+02:00', 'f.yml'), '2024-03-01T10:00:00+02:00');
    assert.equal(normaliseDeprecationDate('2024-03-01T10:00:00Z', 'f.yml'), '2024-03-01T10:00:00+00:00');
    assert.throws(() => normaliseDeprecationDate('next year', 'f.yml', 3), (e: TsdbtError) => e.code === 'properties-invalid' && e.line === 3);
  });
});

describe('model versions: disabled versions and versioned refs to unversioned models', () => {
  const files = (extra: Record<string, string>) => ({
    'models/m_v1.sql': "{{ config(enabled=false) }}\nselect 1 as id\n",
    'models/m_v2.sql': 'select 1 as id\n',
    'models/plain.sql': 'select 1 as id\n',
    'models/schema.yml': 'version: 2\nmodels:\n  - name: m\n    versions:\n      - v: 1\n      - v: 2\n',
    ...extra,
  });
  it('a disabled version is set aside under its versioned unique_id; a ref to it is ref-disabled', () => {
    const errs = parseErrors(files({ 'models/down.sql': "select * from {{ ref('m', v=1) }}\n" }));
    assert.deepEqual(errs.map((e) => [e.code, e.message, e.line]), [['ref-disabled', "model 'down' refers to 'm' with version '1', which is disabled", 1]]);
    const r = parse(files({}));
    assert.ok(r.manifest.disabled['model.shop.m.v1'], Object.keys(r.manifest.disabled).join(', '));
    assert.ok(r.manifest.nodes['model.shop.m.v2']);
  });
  it('ref(plain, v=1) on an unversioned model names the version it looked for', () => {
    const errs = parseErrors(files({ 'models/down.sql': "select * from {{ ref('plain', v=1) }}\n" }));
    assert.deepEqual(errs.map((e) => [e.code, e.message]), [['ref-not-found', "model 'down' refers to 'plain' with version '1', which does not exist"]]);
  });
});

describe('model versions: include lists, access, an unversioned deprecation_date', () => {
  it('include: [names] keeps only those model columns; access per version over the entry', () => {
    const r = parse({
      'models/m_v1.sql': 'select 1 as id\n',
      'models/m_v2.sql': 'select 1 as id\n',
      'models/schema.yml': [
        'version: 2',
        'models:',
        '  - name: m',
        '    access: public',
        '    columns: [{name: id}, {name: a}, {name: b}]',
        '    versions:',
        '      - v: 1',
        '        access: private',
        '        columns:',
        '          - include: [id, b]',
        '      - v: 2',
        '',
      ].join('\n'),
    });
    assert.deepEqual(Object.keys(r.manifest.nodes['model.shop.m.v1'].columns), ['id', 'b']);
    assert.deepEqual(Object.keys(r.manifest.nodes['model.shop.m.v2'].columns), ['id', 'a', 'b']);
    assert.equal(r.manifest.nodes['model.shop.m.v1'].config.access, 'private');
    assert.equal(r.manifest.nodes['model.shop.m.v2'].config.access, 'public');
  });

  it('exclude without include all, and an unknown access, are errors at their lines', () => {
    // (the properties error stops the parse before models are read, so the two are separate projects)
    const errs = parseErrors({
      'models/m_v1.sql': 'select 1 as id\n',
      'models/schema.yml': 'version: 2\nmodels:\n  - name: m\n    versions:\n      - v: 1\n        access: secret\n        columns:\n          - include: [id]\n            exclude: [x]\n',
    });
    assert.deepEqual(errs.map((e) => [e.code, e.line, e.message]), [
      ['properties-invalid', 9, "exclude of version 1 of model 'm' can only be specified if include is one of 'all', '*'"],
    ]);
    const access = parseErrors({
      'models/m_v1.sql': 'select 1 as id\n',
      'models/schema.yml': 'version: 2\nmodels:\n  - name: m\n    versions:\n      - v: 1\n        access: secret\n',
    });
    assert.deepEqual(access.map((e) => [e.code, e.file, e.line, e.message]), [
      ['properties-invalid', 'models/schema.yml', 5, "access 'secret' of model 'm' is not one of 'private', 'protected', 'public'"],
    ]);
  });

  it('an unversioned model with a past deprecation_date warns, and so do the models that ref it', () => {
    const r = parse({
      'models/old.sql': 'select 1 as id\n',
      'models/down.sql': "select * from {{ ref('old') }}\n",
      'models/schema.yml': 'version: 2\nmodels:\n  - name: old\n    deprecation_date: 2021-06-30\n',
    });
    assert.match(r.manifest.nodes['model.shop.old'].deprecation_date!, /^2021-06-30T00:00:00/);
    assert.equal(r.manifest.nodes['model.shop.down'].deprecation_date, null);
    assert.deepEqual(r.warnings.filter((w) => w.code.startsWith('deprecated')).map((w) => [w.code, w.file]), [
      ['deprecated-model', 'models/old.sql'],
      ['deprecated-reference', 'models/down.sql'],
    ]);
    assert.match(r.warnings.find((w) => w.code === 'deprecated-reference')!.message, /^While compiling 'down': Found a reference to old, which was deprecated on '2021-06-30T00:00:00[^']*'\.$/);
  });
});

describe('model versions with partial parsing', () => {
  it('a second parse reuses the files and gives the same versions; a new latest_version moves ref(m)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsdbt-versions-pp-'));
    try {
      const files: Record<string, string> = {
        'dbt_project.yml': 'name: shop\nprofile: shop\nconfig-version: 2\n',
        'models/m_v1.sql': 'select 1 as id\n',
        'models/m_v2.sql': "{% if true %}select 2 as id{% endif %}\n",
        'models/down.sql': "select * from {{ ref('m') }}\n",
        'models/schema.yml': 'version: 2\nmodels:\n  - name: m\n    versions:\n      - v: 1\n      - v: 2\n',
      };
      const write = () => {
        for (const [p, text] of Object.entries(files)) {
          mkdirSync(dirname(join(dir, p)), { recursive: true });
          writeFileSync(join(dir, p), text);
        }
      };
      const run = () => parseProject({ project: loadProjectConfig(dir, { vars: {} }), target, cliVars: {}, invocationId: 'i', env: {}, partialParse: true });
      write();
      const first = run();
      const second = run();
      // every model file reused (read again or not: files written just now are re-read, git's racy-clean rule)
      assert.equal(second.partialParse.reusedUnread + second.partialParse.reusedRead, 3, JSON.stringify(second.partialParse));
      assert.equal(second.partialParse.parsed, 0, JSON.stringify(second.partialParse));
      const summary = (r: ParseResult) => Object.values(r.manifest.nodes).map((n) => [n.unique_id, n.alias, n.version ?? null, n.depends_on.nodes.join()]).sort();
      assert.deepEqual(summary(second), summary(first));
      assert.deepEqual(second.manifest.nodes['model.shop.down'].depends_on.nodes, ['model.shop.m.v2']);
      files['models/schema.yml'] = 'version: 2\nmodels:\n  - name: m\n    latest_version: 1\n    versions:\n      - v: 1\n      - v: 2\n';
      write();
      const third = run();
      assert.deepEqual(third.manifest.nodes['model.shop.down'].depends_on.nodes, ['model.shop.m.v1']);
      assert.equal(third.manifest.nodes['model.shop.m.v2'].latest_version, 1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('model versions: only models', () => {
  it('versions: on a seed is a warning at its line (dbt ValidationWarning), not silently dropped', () => {
    const r = parse({
      'seeds/s.csv': 'id\n1\n',
      'seeds/props.yml': 'version: 2\nseeds:\n  - name: s\n    versions:\n      - v: 1\n',
    });
    const w = r.warnings.find((x) => /versions/.test(x.message));
    assert.ok(w, r.warnings.map((x) => x.format()).join('\n'));
    assert.deepEqual([w.code, w.file, w.line, w.message], ['unknown-property', 'seeds/props.yml', 4, 'Field versions is not valid for seed (s): only models have versions']);
  });
});
