/**
 * Issue 10, model versions end to end on both engines, as dbt-core 1.x builds them: a model
 * with two versions (v1 in `<model>_v1.sql`, v2 in the file `defined_in:` names), v1 dropping a
 * column with include/exclude, tests created per version on the columns each version has,
 * downstream models refing v1 (`v=`), v2 (`version=`) and the unversioned latest. `tsdbt build`
 * creates `<model>_v1` / `<model>_v2` (or the configured alias) with the right rows, runs the
 * right tests, writes dbt's unique_ids and version fields to manifest.json, warns about a ref
 * past its deprecation_date, and refuses a ref to a version that does not exist.
 */
import { it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { describeEngines, Project, projectYml } from './harness.ts';

const SCHEMA = [
  'version: 2',
  'models:',
  '  - name: dim_customers',
  '    config:',
  '      materialized: table',
  '    columns:',
  '      - name: id',
  '        data_tests: [unique, not_null]',
  '      - name: country',
  '        data_tests:',
  '          - accepted_values:',
  "              values: ['nl', 'de']",
  '    versions:',
  '      - v: 1',
  '        deprecation_date: 2020-01-01',
  '        columns:',
  '          - include: all',
  '            exclude: [country]',
  '      - v: 2',
  '        defined_in: dim_customers_current',
  '  - name: fct_orders',
  '    columns:',
  '      - name: customer_id',
  '        data_tests:',
  '          - relationships:',
  "              to: ref('dim_customers', v=1)",
  '              field: id',
  '    versions:',
  '      - v: 1',
  '        config:',
  '          alias: fct_orders',
  '          materialized: table',
  '',
].join('\n');

const FILES = {
  'dbt_project.yml': projectYml('versions_it'),
  'models/dim_customers_v1.sql': "select 1 as id, 'ann' as name union all select 2, 'bob' union all select 3, 'cy'\n",
  'models/dim_customers_current.sql': "select 1 as id, 'ann' as name, 'nl' as country union all select 2, 'bob', 'de'\n",
  'models/fct_orders_v1.sql': 'select 10 as order_id, 1 as customer_id\n',
  'models/schema.yml': SCHEMA,
  'models/uses_v1.sql': "{{ config(materialized='table') }}\nselect count(*) as n from {{ ref('dim_customers', v=1) }}\n",
  'models/uses_v2.sql': "{{ config(materialized='table') }}\nselect count(*) as n from {{ ref('dim_customers', version='2') }}\n",
  'models/uses_latest.sql': "{{ config(materialized='table') }}\n{% set rel = ref('dim_customers') %}\nselect count(*) as n, max(country) as top_country from {{ rel }}\n",
};

interface ResultRow {
  unique_id: string;
  status: string;
}

await describeEngines('model versions', (engine) => {
  let p: Project;
  const results = () => p.json('target/run_results.json').results as ResultRow[];
  const statusOf = (prefix: string) => results().filter((r) => r.unique_id.startsWith(prefix)).map((r) => [r.unique_id.replace(/\.[0-9a-f]{10}$/, ''), r.status]);

  before(async () => {
    p = await Project.create(engine, FILES);
  });
  after(async () => {
    await p?.cleanup();
  });

  it('build creates dim_customers_v1 / dim_customers_v2 / fct_orders (alias) with their rows; refs reach the right version', async () => {
    const r = await p.cli('build');
    assert.equal(r.code, 0, r.output);
    const rel = await p.relations();
    assert.equal(rel.dim_customers_v1, 'table');
    assert.equal(rel.dim_customers_v2, 'table');
    assert.equal(rel.fct_orders, 'table');
    assert.equal(rel.dim_customers, undefined, 'no unversioned relation');
    assert.equal(rel.dim_customers_current, undefined, 'the defined_in file name is not the relation name');
    assert.deepEqual(await p.rows('select id, name from dim_customers_v1 order by id'), [
      { id: 1, name: 'ann' },
      { id: 2, name: 'bob' },
      { id: 3, name: 'cy' },
    ]);
    assert.deepEqual(await p.rows('select id, country from dim_customers_v2 order by id'), [
      { id: 1, country: 'nl' },
      { id: 2, country: 'de' },
    ]);
    assert.deepEqual(await p.rows('select order_id from fct_orders'), [{ order_id: 10 }]);
    assert.equal(Number((await p.rows<{ n: string }>('select n from uses_v1'))[0].n), 3);
    assert.equal(Number((await p.rows<{ n: string }>('select n from uses_v2'))[0].n), 2);
    const latest = await p.rows<{ n: string; top_country: string }>('select n, top_country from uses_latest');
    assert.deepEqual([Number(latest[0].n), latest[0].top_country], [2, 'nl'], 'ref() without a version is the latest (v2)');
  });

  it('tests run per version, on the columns each version has', async () => {
    assert.deepEqual(statusOf('test.').sort(), [
      ['test.versions_it.accepted_values_dim_customers_v2_country__nl__de', 'pass'],
      ['test.versions_it.not_null_dim_customers_v1_id', 'pass'],
      ['test.versions_it.not_null_dim_customers_v2_id', 'pass'],
      ['test.versions_it.relationships_fct_orders_v1_customer_id__id__ref_dim_customers_v_1_', 'pass'],
      ['test.versions_it.unique_dim_customers_v1_id', 'pass'],
      ['test.versions_it.unique_dim_customers_v2_id', 'pass'],
    ]);
    const nodes = p.json('target/manifest.json').nodes as Record<string, { name: string; depends_on: { nodes: string[] } }>;
    const rel = Object.values(nodes).find((n) => n.name.startsWith('relationships_'))!;
    assert.deepEqual(rel.depends_on.nodes.sort(), ['model.versions_it.dim_customers.v1', 'model.versions_it.fct_orders.v1']);
  });

  it("manifest.json has dbt's unique_ids, version, latest_version, deprecation_date and refs", async () => {
    const nodes = p.json('target/manifest.json').nodes as Record<string, Record<string, unknown>>;
    const v1 = nodes['model.versions_it.dim_customers.v1'];
    const v2 = nodes['model.versions_it.dim_customers.v2'];
    assert.ok(v1 && v2, Object.keys(nodes).join(', '));
    assert.deepEqual([v1.name, v1.version, v1.latest_version, v1.alias], ['dim_customers', 1, 2, 'dim_customers_v1']);
    assert.deepEqual([v2.name, v2.version, v2.latest_version, v2.alias, v2.deprecation_date], ['dim_customers', 2, 2, 'dim_customers_v2', null]);
    assert.match(String(v1.deprecation_date), /^2020-01-01T00:00:00[+-]\d\d:\d\d$/);
    assert.deepEqual(v1.fqn, ['versions_it', 'dim_customers', 'v1']);
    assert.deepEqual(Object.keys(v1.columns as object), ['id']);
    assert.deepEqual(Object.keys(v2.columns as object), ['id', 'country']);
    assert.equal(nodes['model.versions_it.fct_orders.v1'].alias, 'fct_orders');
    assert.deepEqual(nodes['model.versions_it.uses_v1'].refs, [{ name: 'dim_customers', package: null, version: 1 }]);
    assert.deepEqual((nodes['model.versions_it.uses_v1'].depends_on as { nodes: string[] }).nodes, ['model.versions_it.dim_customers.v1']);
    assert.deepEqual((nodes['model.versions_it.uses_v2'].depends_on as { nodes: string[] }).nodes, ['model.versions_it.dim_customers.v2']);
    assert.deepEqual((nodes['model.versions_it.uses_latest'].depends_on as { nodes: string[] }).nodes, ['model.versions_it.dim_customers.v2']);
  });

  it('a ref past the deprecation_date is a warning naming the file, line and the latest version', async () => {
    const r = await p.cli('ls', ['--select', 'uses_v1']);
    assert.equal(r.code, 0, r.output);
    assert.match(
      r.output,
      /models\/uses_v1\.sql:2 \[deprecated-reference\] While compiling 'uses_v1': Found a reference to dim_customers\.v1, which was deprecated on '2020-01-01T00:00:00[^']*'\. A new version of 'dim_customers' is available\. Migrate now: \{\{ ref\('versions_it', 'dim_customers', v='2'\) \}\}\./,
    );
    assert.match(r.output, /\[deprecated-model\] Model dim_customers\.v1 has passed its deprecation date/);
  });

  it('--select dim_customers.v1 builds only that version (and its tests); version:latest the latest', async () => {
    const r = await p.cli('build', ['--select', 'dim_customers.v1']);
    assert.equal(r.code, 0, r.output);
    assert.deepEqual(results().map((x) => x.unique_id.replace(/\.[0-9a-f]{10}$/, '')).sort(), [
      'model.versions_it.dim_customers.v1',
      'test.versions_it.not_null_dim_customers_v1_id',
      'test.versions_it.relationships_fct_orders_v1_customer_id__id__ref_dim_customers_v_1_',
      'test.versions_it.unique_dim_customers_v1_id',
    ]);
    const l = await p.cli('ls', ['--select', 'version:latest', '--resource-type', 'model']);
    assert.equal(l.code, 0, l.output);
    assert.deepEqual(l.stdout.trim().split('\n').filter((x) => x.startsWith('versions_it.')).sort(), ['versions_it.dim_customers.v2', 'versions_it.fct_orders.v1']);
  });

  it("a failing row fails only that version's test (exit 1); the relationships test reads v1", async () => {
    p.write({ 'models/dim_customers_v1.sql': "select 1 as id, 'ann' as name union all select 1, 'dup'\n" });
    const r = await p.cli('build');
    assert.equal(r.code, 1, r.output);
    assert.deepEqual(statusOf('test.versions_it.unique_').sort(), [
      ['test.versions_it.unique_dim_customers_v1_id', 'fail'],
      ['test.versions_it.unique_dim_customers_v2_id', 'pass'],
    ]);
    // fct_orders' customer 1 is still in v1; remove it and the relationships test to v1 fails
    p.write({ 'models/dim_customers_v1.sql': "select 2 as id, 'bob' as name\n" });
    const r2 = await p.cli('build');
    assert.equal(r2.code, 1, r2.output);
    assert.deepEqual(statusOf('test.versions_it.relationships_'), [['test.versions_it.relationships_fct_orders_v1_customer_id__id__ref_dim_customers_v_1_', 'fail']]);
    p.write({ 'models/dim_customers_v1.sql': FILES['models/dim_customers_v1.sql'] });
  });

  it('a ref to an unknown version stops the build with an error naming the file and line', async () => {
    p.write({ 'models/uses_v9.sql': "-- wants a version that is not there\nselect * from {{ ref('dim_customers', v=9) }}\n" });
    const r = await p.cli('build');
    assert.equal(r.code, 2, r.output);
    assert.match(r.output, /models\/uses_v9\.sql:2 \[ref-not-found\] model 'uses_v9' refers to 'dim_customers' with version '9', which does not exist/);
    assert.match(r.output, /hint: versions of 'dim_customers' are: 1, 2/);
    assert.doesNotMatch(r.output, /\n\s+at /, 'no stack trace');
    p.write({ 'models/uses_v9.sql': null });
  });
});
