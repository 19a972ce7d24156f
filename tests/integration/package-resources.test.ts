/**
 * Issue 10, "packages load like the root project", through the CLI on both engines: a local
 * package (`local:` in packages.yml, installed by `tsdbt deps`) with a seed, models, a custom
 * generic test and vars is built by `tsdbt build` in the root project, as dbt builds an installed
 * package's resources: unique_ids `model.my_pkg.…`, the package's own dbt_project.yml configs
 * and vars, and the root project's overrides (`models: my_pkg: marts: +enabled: false`,
 * `seeds: my_pkg: +schema`, `vars: {my_pkg: {…}}`) applied over them.
 */
import { it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { describeEngines, num, Project, projectYml, type Files } from './harness.ts';

const FILES: Files = {
  'dbt_project.yml': projectYml(
    'shop',
    `vars:
  label: root_global
  my_pkg:
    discount: 5
models:
  my_pkg:
    marts:
      +enabled: false
seeds:
  my_pkg:
    +schema: pkgseeds
`,
  ),
  'packages.yml': 'packages:\n  - local: vendor/my_pkg\n',
  'models/report.sql': "select label, sum(net) as total, '{{ currency_code() }}' as currency from {{ ref('my_pkg', 'discounted') }} group by label\n",
  // Both the root project and the package define currency_code(): each node's bare call finds its own package's first.
  'macros/currency.sql': "{% macro currency_code() %}root_usd{% endmacro %}\n",
  'vendor/my_pkg/macros/currency.sql': "{% macro currency_code() %}pkg_eur{% endmacro %}\n",
  // The package: its own configs (tables, staging as views) and vars.
  'vendor/my_pkg/dbt_project.yml': `name: my_pkg
version: '0.1.0'
config-version: 2
require-dbt-version: [">=1.3.0", "<2.0.0"]
vars:
  discount: 10
  label: pkg_own
  unit: eur
models:
  my_pkg:
    +materialized: table
    staging:
      +materialized: view
`,
  'vendor/my_pkg/seeds/pkg_prices.csv': 'id,price\n1,100\n2,200\n3,300\n',
  'vendor/my_pkg/models/staging/stg_prices.sql': "select id, price from {{ ref('pkg_prices') }}\n",
  'vendor/my_pkg/models/discounted.sql':
    "select id, price - {{ var('discount') }} as net, '{{ var('label') }}' as label, '{{ var('unit') }}' as unit, '{{ currency_code() }}' as currency from {{ ref('stg_prices') }}\n",
  'vendor/my_pkg/models/marts/unwanted.sql': 'select 1 as x\n',
  'vendor/my_pkg/models/schema.yml': `version: 2
models:
  - name: discounted
    columns:
      - name: id
        data_tests: [unique, not_null]
      - name: net
        data_tests: [positive]
`,
  'vendor/my_pkg/tests/generic/positive.sql': '{% test positive(model, column_name) %}\nselect * from {{ model }} where {{ column_name }} <= 0\n{% endtest %}\n',
};

await describeEngines('package resources', (engine) => {
  let p: Project;
  let build: { code: number; output: string };

  before(async () => {
    p = await Project.create(engine, FILES);
    const deps = await p.cli('deps');
    assert.equal(deps.code, 0, deps.output);
    build = await p.cli('build');
  });
  after(async () => {
    await p?.cleanup();
  });

  it("builds the package's seed, models and tests with the root project's: 1 seed, 3 models, 3 tests pass", () => {
    assert.equal(build.code, 0, build.output);
    assert.match(build.output, /Done\. PASS=7 WARN=0 ERROR=0 SKIP=0 NO-OP=0 TOTAL=7/);
    assert.doesNotMatch(build.output, /unsupported/);
  });

  it("the package's rows: the root project's vars: {my_pkg: {discount: 5}} wins over the package's own discount: 10; the root's global label too; the package's unit stays", async () => {
    assert.deepEqual(
      (await p.rows<{ id: number; net: number; label: string; unit: string }>('select id, net, label, unit from discounted order by id')).map((r) => [num(r.id), num(r.net), r.label, r.unit]),
      [
        [1, 95, 'root_global', 'eur'],
        [2, 195, 'root_global', 'eur'],
        [3, 295, 'root_global', 'eur'],
      ],
    );
    assert.deepEqual((await p.rows<{ label: string; total: unknown }>('select label, total from report')).map((r) => [r.label, num(r.total)]), [['root_global', 585]]);
  });

  it("a bare macro call resolves in the node's own package first, then the root project (dbt's MacroNamespace search order)", async () => {
    assert.deepEqual((await p.rows<{ currency: string }>('select distinct currency from discounted')).map((r) => r.currency), ['pkg_eur']);
    assert.deepEqual((await p.rows<{ currency: string }>('select currency from report')).map((r) => r.currency), ['root_usd']);
  });

  it("the package's configs apply (tables, staging as a view), the root's seeds: my_pkg: +schema moves its seed, and marts is disabled by the root", async () => {
    const rel = await p.relations();
    assert.equal(rel.discounted, 'table');
    assert.equal(rel.stg_prices, 'view');
    assert.equal(rel.report, 'view');
    assert.equal(rel.unwanted, undefined);
    assert.equal(await p.count(`"${p.schema}_pkgseeds".pkg_prices`), 3);
    assert.deepEqual(await p.schemas(), [p.schema, `${p.schema}_pkgseeds`]);
  });

  it("manifest.json holds the package's nodes under dbt's unique_ids, with package_name and package-relative paths", () => {
    const m = p.json<{ nodes: Record<string, { package_name: string; original_file_path: string; fqn: string[]; depends_on: { nodes: string[] } }>; disabled: Record<string, unknown> }>(
      'target/manifest.json',
    );
    const ids = Object.keys(m.nodes).sort();
    const plain = ids.map((id) => id.replace(/\.[0-9a-f]{10}$/, ''));
    assert.deepEqual(plain, [
      'model.my_pkg.discounted',
      'model.my_pkg.stg_prices',
      'model.shop.report',
      'seed.my_pkg.pkg_prices',
      'test.my_pkg.not_null_discounted_id',
      'test.my_pkg.positive_discounted_net',
      'test.my_pkg.unique_discounted_id',
    ]);
    const d = m.nodes['model.my_pkg.discounted'];
    assert.equal(d.package_name, 'my_pkg');
    assert.equal(d.original_file_path, 'models/discounted.sql');
    assert.deepEqual(d.fqn, ['my_pkg', 'discounted']);
    assert.deepEqual(m.nodes['model.shop.report'].depends_on.nodes, ['model.my_pkg.discounted']);
    assert.ok(m.disabled['model.my_pkg.unwanted']);
  });

  it('--vars beats every project var; the package generic test then fails on the negative row (exit 1)', async () => {
    const r = await p.cli('build', ['--vars', '{discount: 150}']);
    assert.equal(r.code, 1, r.output);
    assert.match(r.output, /positive_discounted_net/);
    assert.deepEqual((await p.rows<{ net: unknown }>('select net from discounted order by id')).map((x) => num(x.net)), [-50, 50, 150]);
  });

  it("a require-dbt-version the package cannot meet stops the run naming its dbt_project.yml; --no-version-check runs", async () => {
    const yml = p.read('dbt_packages/my_pkg/dbt_project.yml')!;
    p.write({ 'dbt_packages/my_pkg/dbt_project.yml': yml.replace('[">=1.3.0", "<2.0.0"]', '">=9.0.0"') });
    try {
      const r = await p.cli('parse');
      assert.equal(r.code, 2, r.output);
      assert.match(r.output, /dbt_packages\/my_pkg\/dbt_project\.yml:4 \[dbt-version-mismatch\] this version of dbt is not supported with the 'my_pkg' package: tsdbt reports dbt 1\.11\.0, 'my_pkg' requires \['>=9\.0\.0'\]/);
      const ok = await p.cli('parse', ['--no-version-check']);
      assert.equal(ok.code, 0, ok.output);
    } finally {
      p.write({ 'dbt_packages/my_pkg/dbt_project.yml': yml });
    }
  });
});
