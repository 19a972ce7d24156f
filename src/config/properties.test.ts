import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CompileErrors, TsdbtError } from '../errors.ts';
import { loadProjectConfig } from './project.ts';
import { loadProperties } from './properties.ts';
import { thrown, writeProject } from './write-project.ts';

const SCHEMA = `version: 2

models:
  - name: orders
    description: "{{ doc('orders') }}"
    config:
      +materialized: table
      post-hook: "analyze {{ this }}"
      tags: nightly
    meta: {owner: sales}
    tests:
      - dbt_utils.expression_is_true:
          expression: "amount >= 0"
    columns:
      - name: order_id
        description: Primary key
        data_type: integer
        quote: true
        data_tests:
          - unique
          - not_null
      - name: status
        tests:
          - accepted_values:
              values: ['placed', 'shipped']

sources:
  - name: raw
    loader: fivetran
    tags: [raw]
    tables:
      - name: orders
      - name: customers
        identifier: raw_customers
        freshness: {warn_after: {count: 1, period: day}}
        columns:
          - name: id
            tests: [unique]
  - name: stripe
    schema: stripe_raw
    database: lake
    tables:
      - name: payments
`;

describe('loadProperties', () => {
  it('reads models, columns, tests and sources with defaults, files and lines', () => {
    const dir = writeProject({
      'dbt_project.yml': 'name: shop\n',
      'models/staging/schema.yml': SCHEMA,
      'seeds/seeds.yaml': 'version: 2\nseeds:\n  - name: countries\n    config:\n      delimiter: ";"\n',
      'snapshots/snap.yml': 'snapshots:\n  - name: orders_snapshot\n',
      'analyses/a.yml': 'analyses:\n  - name: revenue\n    description: x\n',
      'macros/m.yml': 'models:\n  - name: not_read\n',
    });
    const props = loadProperties(loadProjectConfig(dir));
    assert.deepEqual(props.files, ['analyses/a.yml', 'models/staging/schema.yml', 'seeds/seeds.yaml', 'snapshots/snap.yml']);
    assert.deepEqual(props.warnings, []);
    assert.equal(props.models.length, 1);
    const orders = props.models[0];
    assert.equal(orders.name, 'orders');
    assert.equal(orders.description, "{{ doc('orders') }}");
    assert.deepEqual(orders.config, { materialized: 'table', post_hook: ['analyze {{ this }}'], tags: ['nightly'] });
    assert.deepEqual(orders.meta, { owner: 'sales' });
    assert.deepEqual(orders.tests, [{ 'dbt_utils.expression_is_true': { expression: 'amount >= 0' } }]);
    assert.equal(orders.file, 'models/staging/schema.yml');
    assert.equal(orders.line, 4);
    assert.deepEqual(orders.columns, [
      { name: 'order_id', description: 'Primary key', data_type: 'integer', quote: true, tests: ['unique', 'not_null'], line: 15 },
      { name: 'status', tests: [{ accepted_values: { values: ['placed', 'shipped'] } }], line: 22 },
    ]);

    assert.deepEqual(props.sources.map((s) => [s.name, s.schema, s.database, s.line, s.file]), [
      ['raw', 'raw', undefined, 28, 'models/staging/schema.yml'],
      ['stripe', 'stripe_raw', 'lake', 39, 'models/staging/schema.yml'],
    ]);
    const raw = props.sources[0];
    assert.equal(raw.loader, 'fivetran');
    assert.deepEqual(raw.tags, ['raw']);
    assert.deepEqual(raw.tables.map((t) => [t.name, t.identifier, t.line]), [['orders', 'orders', 32], ['customers', 'raw_customers', 33]]);
    assert.deepEqual(raw.tables[1].columns, [{ name: 'id', tests: ['unique'], line: 37 }]);
    // freshness is kept as written (source freshness reads it); absent where not written
    assert.deepEqual(raw.tables[1].freshness, { warn_after: { count: 1, period: 'day' } });
    assert.equal('freshness' in raw.tables[0], false);

    assert.deepEqual(props.seeds.map((s) => [s.name, s.config, s.line]), [['countries', { delimiter: ';' }, 3]]);
    assert.deepEqual(props.snapshots.map((s) => s.name), ['orders_snapshot']);
    assert.deepEqual(props.analyses!.map((s) => [s.name, s.description]), [['revenue', 'x']]);
  });

  it('warns about unknown config keys and unknown top-level keys, with lines', () => {
    const dir = writeProject({
      'dbt_project.yml': 'name: shop\n',
      'models/schema.yml': 'version: 2\nmodel:\n  - name: a\nmodels:\n  - name: b\n    config:\n      materialzed: table\n    colums: []\n',
    });
    const props = loadProperties(loadProjectConfig(dir));
    assert.deepEqual(props.warnings!.map((w) => w.format()), [
      "models/schema.yml:2 [unknown-properties-key] unknown top-level key 'model' in models/schema.yml; did you mean 'models'?\n  hint: rename it to 'models': dbt ignores 'model'",
      "models/schema.yml:8 [unknown-property] unknown property 'colums' on model 'b'; did you mean 'columns'?\n  hint: rename it to 'columns' (dbt ignores 'colums')",
      "models/schema.yml:7 [unknown-config-key] unknown config key 'materialzed' in the config of model 'b'; did you mean 'materialized'?\n" +
        "  hint: rename it to 'materialized' (dbt keeps unknown keys as custom config, so a misspelt key silently does nothing)",
    ]);
  });

  it('collects every error across files before throwing', () => {
    const dir = writeProject({
      'dbt_project.yml': 'name: shop\n',
      'models/a.yml': 'version: 2\nmodels:\n  - description: no name here\n',
      'models/b.yml': 'version: 2\nmodels:\n  - name: x\n    columns:\n    - name: [oops\n',
      'models/c.yml': 'version: 2\nmodels:\n  - name: x\n    columns:\n      - description: nameless\n',
      'models/d.yml': 'version: 2\nmodels:\n  - name: c\n  - name: c\n',
      'models/e.yml': 'version: 1\nmodels:\n  - name: e\n    tests: [unique]\n    data_tests: [not_null]\n',
    });
    const e = thrown(() => loadProperties(loadProjectConfig(dir)));
    assert.ok(e instanceof CompileErrors);
    assert.deepEqual(
      e.errors.map((x) => [x.code, x.file, x.line, x.message]),
      [
        ['properties-invalid', 'models/a.yml', 3, 'a models: entry has no name'],
        ['yaml-syntax', 'models/b.yml', 5, 'invalid YAML in models/b.yml: the [ opened here is never closed with ]'],
        ['properties-invalid', 'models/c.yml', 5, "a column of model 'x' has no name"],
        ['properties-invalid', 'models/e.yml', 1, 'version: 1 is not supported; properties files use version: 2'],
        ['properties-invalid', 'models/e.yml', 5, "model 'e' has both tests: and data_tests:"],
        ['duplicate-properties', 'models/d.yml', 4, "model 'c' is described twice: here and at models/d.yml:3"],
      ],
    );
    assert.match(e.format(), /6 errors found; nothing was run\.$/);
  });

  it('reports duplicate descriptions across files, and a single error as itself', () => {
    const dir = writeProject({
      'dbt_project.yml': 'name: shop\n',
      'models/a.yml': 'sources:\n  - name: raw\n    tables: [{name: t}]\n',
      'models/b.yml': '\n\nsources:\n  - name: raw\n    tables: [{name: u}]\n',
    });
    const e = thrown(() => loadProperties(loadProjectConfig(dir)));
    assert.equal(e.code, 'duplicate-properties');
    assert.equal(e.format(), "models/b.yml:4 [duplicate-properties] source 'raw' is described twice: here and at models/a.yml:2\n  hint: describe each source once: merge the two entries into one");
  });

  it('accepts empty files and projects without the default folders', () => {
    const dir = writeProject({ 'dbt_project.yml': 'name: shop\n', 'models/empty.yml': '# nothing yet\n' });
    const props = loadProperties(loadProjectConfig(dir));
    assert.deepEqual(props.files, ['models/empty.yml']);
    assert.deepEqual(props.models, []);
  });
});
