/**
 * Issues 2 and 3, the less-travelled paths on both engines: thresholds that turn
 * into errors, fail_calc, tests on sources, expression and model-level tests,
 * accepted_values quote: false, `data_tests:` config in dbt_project.yml,
 * store_failures with limit; a failing seed test skipping models in build;
 * --fail-fast; a broken view model keeps the old view; GitHub annotation for
 * a model error; exit 2 for an unknown target.
 */
import { it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { describeEngines, Project, projectYml, type Files } from './harness.ts';

const FILES: Files = {
  'dbt_project.yml': projectYml(
    'edges',
    `seeds:
  edges:
    +schema: raw
data_tests:
  edges:
    lenient:
      +severity: warn
`,
  ),
  'seeds/items.csv': 'id,a,b,qty\n1,x,p,1\n2,x,q,2\n3,y,p,3\n3,y,p,3\n3,z,r,5\n',
  'models/strict/items_m.sql': "select * from {{ source('shop', 'items') }}\n",
  'models/strict/items_m.yml': `version: 2
models:
  - name: items_m
    data_tests:
      - unique:                       # model-level, expression: FAIL 1 ('3-y-p' twice)
          column_name: "(id || '-' || a || '-' || b)"
    columns:
      - name: qty
        data_tests:
          - accepted_values:          # FAIL 1 (5), unquoted integers
              values: [1, 2, 3]
              quote: false
              config:
                error_if: ">0"
          - accepted_values:          # PASS: 2 failing values, warn_if/error_if >5 (failures reported as 0)
              name: qty_small_threshold
              values: [1]
              quote: false
              config:
                warn_if: ">5"
                error_if: ">5"
          - not_null:                 # PASS
              config:
                store_failures: true
      - name: a
        data_tests:
          - accepted_values:          # FAIL 2 ('y', 'z'): error_if >1 turns the warning into an error
              values: ['x']
              config:
                warn_if: ">0"
                error_if: ">1"
      - name: b
        data_tests:
          - accepted_values:          # FAIL 1: 'q' and 'r' fail, limit 1 counts (and stores) one
              values: ['p']
              config:
                store_failures: true
                limit: 1
`,
  'models/lenient/items_l.sql': "select * from {{ ref('items_m') }}\n",
  'models/lenient/items_l.yml': `version: 2
models:
  - name: items_l
    columns:
      - name: id
        data_tests: [unique]          # WARN 1: data_tests severity warn for lenient/
`,
};

/** The source definition, with `schema` as written. */
const sourcesYml = (schema: string): string => `version: 2
sources:
  - name: shop
    schema: "${schema}"
    tables:
      - name: items
        columns:
          - name: id
            data_tests:
              - not_null              # PASS
              - unique:               # FAIL 3 with fail_calc sum(n_records)
                  config:
                    fail_calc: "sum(n_records)"
`;

await describeEngines('edge cases', (engine) => {
  let p: Project;
  const outcome = (): Record<string, [string, number]> => {
    const manifest = p.json('target/manifest.json');
    const results = p.json('target/run_results.json').results as { unique_id: string; status: string; failures: number | null }[];
    return Object.fromEntries(results.map((r) => [manifest.nodes[r.unique_id]?.name ?? r.unique_id, [r.status, r.failures ?? 0]]));
  };

  before(async () => {
    p = await Project.create(engine, FILES);
    p.write({ 'models/sources.yml': sourcesYml(`${p.schema}_raw`) });
    for (const cmd of ['seed', 'run']) {
      const r = await p.cli(cmd);
      assert.equal(r.code, 0, r.output);
    }
  });
  after(async () => {
    await p?.cleanup();
  });

  it('thresholds, fail_calc, source tests, expression tests, quote: false, data_tests: project config', async () => {
    const r = await p.cli('test');
    assert.equal(r.code, 1, r.output);
    assert.deepEqual(outcome(), {
      source_not_null_shop_items_id: ['pass', 0],
      source_unique_shop_items_id: ['fail', 3],
      // dbt's names: args sorted (column_name, quote, values), runs of other characters → '_'.
      unique_items_m__id_a_b_: ['fail', 1],
      accepted_values_items_m_qty__False__1__2__3: ['fail', 1],
      qty_small_threshold: ['pass', 0],
      not_null_items_m_qty: ['pass', 0],
      accepted_values_items_m_a__x: ['fail', 2],
      accepted_values_items_m_b__p: ['fail', 1],
      unique_items_l_id: ['warn', 1],
    });
  });

  it('store_failures with limit keeps only the first failing rows', async () => {
    const rows = await p.rows<{ value_field: string }>(`select value_field from ${p.schema}_dbt_test__audit.accepted_values_items_m_b__p`);
    assert.equal(rows.length, 1);
    assert.ok(['q', 'r'].includes(rows[0].value_field));
    assert.equal(await p.count(`${p.schema}_dbt_test__audit.not_null_items_m_qty`), 0);
  });

  it('build: a failing test on a seed skips the models downstream', async () => {
    p.write({
      'seeds/items.yml': `version: 2
seeds:
- name: items
  columns:
    - name: qty
      data_tests:
        - accepted_values:
            values: [1, 2, 3]
            quote: false
`,
      'models/from_seed.sql': "select * from {{ ref('items') }}\n",
      'models/from_seed_child.sql': "select * from {{ ref('from_seed') }}\n",
    });
    try {
      const r = await p.cli('build', ['--select', 'items+']);
      assert.equal(r.code, 1, r.output);
      assert.deepEqual(outcome(), {
        items: ['success', 0],
        accepted_values_items_qty__False__1__2__3: ['fail', 1],
        from_seed: ['skipped', 0],
        from_seed_child: ['skipped', 0],
      });
    } finally {
      p.write({ 'seeds/items.yml': null, 'models/from_seed.sql': null, 'models/from_seed_child.sql': null });
    }
  });

  it('--fail-fast stops at the first failure and skips the rest', async () => {
    p.write({
      'models/boom_1.sql': "{{ config(materialized='table') }}\nselect 1/0 as x\n",
      'models/boom_2.sql': "{{ config(materialized='table') }}\nselect 1/0 as x\n",
      'models/later.sql': "select * from {{ ref('items_l') }}\n",
    });
    const r = await p.cli('run', ['--fail-fast', '--threads', '1', '--select', 'boom_1', 'boom_2', 'later']);
    assert.equal(r.code, 1, r.output);
    const statuses = Object.values(outcome()).map(([s]) => s);
    assert.equal(statuses.filter((s) => s === 'error').length, 1, r.output);
    assert.equal(statuses.filter((s) => s === 'skipped').length, 2, r.output);
    p.write({ 'models/boom_1.sql': null, 'models/boom_2.sql': null, 'models/later.sql': null });
  });

  it('a broken view model keeps the previous view; under GitHub Actions its error is annotated at the file', async () => {
    p.write({ 'models/a_view.sql': "{{ config(materialized='view') }}\nselect 1 as v\n" });
    let r = await p.cli('run', ['--select', 'a_view']);
    assert.equal(r.code, 0, r.output);
    p.write({ 'models/a_view.sql': "{{ config(materialized='view') }}\nselect v from no_such_table\n" });
    r = await p.cli('run', ['--select', 'a_view'], { GITHUB_ACTIONS: 'true' });
    assert.equal(r.code, 1, r.output);
    assert.match(r.output, /no_such_table/);
    assert.deepEqual(await p.rows('select v from a_view'), [{ v: 1 }]);
    assert.match(r.stdout, /^::error file=models\/a_view\.sql[,:]/m, r.output);
    p.write({ 'models/a_view.sql': null });
  });

  it(
    'a source schema written with Jinja ({{ target.schema }}_raw) is rendered',
    async () => {
      p.write({ 'models/sources.yml': sourcesYml('{{ target.schema }}_raw') });
      try {
        const r = await p.cli('compile', ['--select', 'items_m']);
        assert.equal(r.code, 0, r.output);
        const sql = p.read('target/compiled/edges/models/strict/items_m.sql') ?? '';
        assert.ok(sql.includes(`"${p.schema}_raw"."items"`), sql);
      } finally {
        p.write({ 'models/sources.yml': sourcesYml(`${p.schema}_raw`) });
      }
    },
  );

  it('an unknown --target exits 2 with a message naming it', async () => {
    const r = await p.cli('run', ['--target', 'nope']);
    assert.equal(r.code, 2, r.output);
    assert.match(r.stderr, /nope/);
  });
});
