/**
 * Issue 11's "Done when": one fixture project with a seed feeding a source, a snapshot, a unit test,
 * on-run hooks, an exposure, an analysis, a model contract and a freshness check, run with
 * `tsdbt seed`, `tsdbt source freshness`, `tsdbt build`, `tsdbt compile` and `tsdbt snapshot` on both engines, giving
 * the rows dbt's documentation describes: the contract's table with its NOT NULL column, the unit
 * test passing before its model, SCD-2 rows (one closed, one current per changed key), the hooks'
 * audit rows, sources.json, the analysis compiled but never built, the exposure in manifest.json.
 */
import { it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describeEngines, Project, projectYml, type Files } from './harness.ts';

const FILES: Files = {
  'dbt_project.yml': projectYml(
    'allres',
    `seeds:
  allres:
    +column_types: {id: integer, name: text, updated_at: timestamp}
on-run-start: "create table if not exists {{ target.schema }}.audit (event text, n int)"
on-run-end: "insert into {{ target.schema }}.audit values ('end', {{ results | length }})"
`,
  ),
  // Far-future timestamps keep the freshness check and the snapshot's validity ranges independent of today.
  'seeds/raw_customers.csv': 'id,name,updated_at\n1,ada,2999-01-01 00:00:00\n2,bob,2999-01-01 00:00:00\n',
  'models/sources.yml': `version: 2
sources:
  - name: raw
    schema: "{{ target.schema }}"
    loaded_at_field: updated_at
    freshness:
      warn_after: {count: 1, period: day}
    tables:
      - name: customers
        identifier: raw_customers
models:
  - name: stg_customers
    config:
      contract: {enforced: true}
    columns:
      - name: id
        data_type: integer
        constraints: [{type: not_null}, {type: primary_key}]
      - name: name
        data_type: text
  - name: customer_names
    columns:
      - name: id
        data_tests: [unique]
unit_tests:
  - name: names_are_upper_case
    model: customer_names
    given:
      - input: ref('stg_customers')
        rows: [{id: 1, name: ada}, {id: 2, name: null}]
    expect:
      rows: [{id: 1, name_upper: ADA}, {id: 2, name_upper: null}]
exposures:
  - name: dashboard
    type: dashboard
    owner: {name: Analytics, email: analytics@example.com}
    depends_on: [ref('customer_names')]
`,
  'models/stg_customers.sql': "{{ config(materialized='table') }}\nselect id, name from {{ source('raw', 'customers') }}\n",
  'models/customer_names.sql': "select id, upper(name) as name_upper from {{ ref('stg_customers') }}\n",
  'snapshots/customers_snapshot.sql': `{% snapshot customers_snapshot %}
{{ config(unique_key='id', strategy='timestamp', updated_at='updated_at') }}
select * from {{ source('raw', 'customers') }}
{% endsnapshot %}
`,
  'analyses/name_count.sql': "select count(*) from {{ ref('customer_names') }}\n",
};

await describeEngines('a project with every resource type', (engine) => {
  let p: Project;
  before(async () => {
    p = await Project.create(engine, FILES);
  });
  after(async () => {
    await p?.cleanup();
  });

  it('seed, then source freshness passes and writes sources.json', async () => {
    let r = await p.cli('seed');
    assert.equal(r.code, 0, r.output);
    r = await p.cli('source freshness');
    assert.equal(r.code, 0, r.output);
    const sources = p.json('target/sources.json');
    assert.deepEqual(sources.results.map((x: { unique_id: string; status: string }) => [x.unique_id, x.status]), [['source.allres.raw.customers', 'pass']]);
  });

  it('build: hooks around the nodes, the unit test before its model, the contract table, the snapshot, the tests; the analysis is not built', async () => {
    const r = await p.cli('build');
    assert.equal(r.code, 0, r.output);
    const results = p.json('target/run_results.json').results as { unique_id: string; status: string; timing: { name: string; started_at: string; completed_at: string }[] }[];
    const status = Object.fromEntries(results.map((x) => [x.unique_id, x.status]));
    assert.equal(status['unit_test.allres.customer_names.names_are_upper_case'], 'pass');
    assert.equal(status['model.allres.stg_customers'], 'success');
    assert.equal(status['snapshot.allres.customers_snapshot'], 'success');
    assert.equal(status['operation.allres.allres-on-run-start-0'], 'success');
    // The unit test finished before its model started (dbt's build: a failing unit test skips the model).
    const at = (id: string, edge: 'started_at' | 'completed_at') => {
      const t = results.find((x) => x.unique_id === id)!.timing;
      return Date.parse(edge === 'started_at' ? t[0].started_at : t[t.length - 1].completed_at);
    };
    assert.ok(at('unit_test.allres.customer_names.names_are_upper_case', 'completed_at') <= at('model.allres.customer_names', 'started_at'), JSON.stringify(results.map((x) => [x.unique_id, x.timing])));
    assert.deepEqual(await p.rows('select id, name_upper from customer_names order by id'), [{ id: 1, name_upper: 'ADA' }, { id: 2, name_upper: 'BOB' }]);
    // The contract: the declared types and NOT NULL, as dbt-postgres creates the table.
    const cols = await p.rows<{ attname: string; typ: string; attnotnull: boolean }>(
      `select attname, format_type(atttypid, atttypmod) as typ, attnotnull from pg_attribute where attrelid = '${p.schema}.stg_customers'::regclass and attnum > 0 and not attisdropped order by attnum`,
    );
    assert.deepEqual(cols, [{ attname: 'id', typ: 'integer', attnotnull: true }, { attname: 'name', typ: 'text', attnotnull: false }]);
    // on-run-end ran after seed, source freshness and build (dbt runs the hooks with each); build's saw every result before it.
    const audit = await p.rows<{ event: string; n: number }>('select event, n from audit');
    assert.equal(audit.length, 3, JSON.stringify(audit));
    // dbt's on-run-end `results`: every node's (the unit test's too), not the hooks that succeeded.
    const nodes = results.filter((x) => !x.unique_id.startsWith('operation.')).length;
    assert.equal(nodes, 6);
    assert.ok(audit.some((a) => a.n === nodes), `${JSON.stringify(audit)} vs ${nodes} node results`);
    // The analysis: never built; `tsdbt compile` compiles it (as dbt: analyses are compiled, not run).
    const c = await p.cli('compile');
    assert.equal(c.code, 0, c.output);
    assert.ok(existsSync(join(p.dir, 'target', 'compiled', 'allres', 'analyses', 'name_count.sql')));
    assert.ok(!('name_count' in (await p.relations())));
    const manifest = p.json('target/manifest.json');
    assert.deepEqual(manifest.exposures['exposure.allres.dashboard'].depends_on.nodes, ['model.allres.customer_names']);
  });

  it('snapshot after a change: the old version closed at the new updated_at, the new one current (dbt SCD type 2)', async () => {
    p.write({ 'seeds/raw_customers.csv': 'id,name,updated_at\n1,ada,2999-01-01 00:00:00\n2,bobby,2999-01-05 00:00:00\n' });
    let r = await p.cli('seed');
    assert.equal(r.code, 0, r.output);
    r = await p.cli('snapshot');
    assert.equal(r.code, 0, r.output);
    const rows = await p.rows<{ id: number; name: string; valid_from: string; valid_to: string | null }>(
      "select id, name, to_char(dbt_valid_from, 'YYYY-MM-DD') as valid_from, to_char(dbt_valid_to, 'YYYY-MM-DD') as valid_to from customers_snapshot order by id, dbt_valid_from",
    );
    assert.deepEqual(rows, [
      { id: 1, name: 'ada', valid_from: '2999-01-01', valid_to: null },
      { id: 2, name: 'bob', valid_from: '2999-01-01', valid_to: '2999-01-05' },
      { id: 2, name: 'bobby', valid_from: '2999-01-05', valid_to: null },
    ]);
  });
});
