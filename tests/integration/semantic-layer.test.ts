/**
 * Issue 11, the semantic layer as dbt-core 1.11 parses it (never executes it: MetricFlow does), on both
 * engines: `semantic_models:`, `metrics:` and `saved_queries:` land in manifest.json under dbt's
 * unique_ids (`semantic_model.<pkg>.<name>`, `metric.…`, `saved_query.…`) with depends_on as dbt's
 * ManifestLoader.process_metrics / process_saved_queries resolves them (semantic model → its model,
 * metric → the semantic model defining its measure or the metrics it uses, saved query → its metrics),
 * the manifest validates against dbt's manifest v12 schema, `tsdbt ls --resource-type metric` lists them
 * with dbt's `metric:<pkg>.<name>` selectors, and a missing ref / measure / metric is an error with file
 * and line (exit 2).
 */
import { it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsImport from 'ajv-formats';
import { describeEngines, FIXTURES, Project, projectYml } from './harness.ts';

const addFormats = addFormatsImport as unknown as (ajv: Ajv2020) => Ajv2020;
const schemaCheck = addFormats(new Ajv2020({ strict: false, allErrors: true })).compile(JSON.parse(readFileSync(join(FIXTURES, 'dbt-schemas', 'manifest-v12.json'), 'utf8')));
/** True when `data` validates against dbt manifest v12 (errors in `schemaCheck.errors`); not a type guard. */
const validate = (data: unknown): boolean => schemaCheck(data);

const SEMANTIC = `version: 2
semantic_models:
  - name: orders_sm
    description: orders, one row each
    model: ref('orders')
    defaults:
      agg_time_dimension: ordered_at
    entities:
      - name: order_id
        type: primary
        expr: id
    dimensions:
      - name: ordered_at
        type: time
        type_params:
          time_granularity: day
    measures:
      - name: order_total
        agg: sum
        expr: amount
      - name: order_count
        agg: count
        expr: id
metrics:
  - name: revenue
    label: Revenue
    type: simple
    type_params:
      measure: order_total
  - name: orders_n
    label: Orders
    type: simple
    type_params:
      measure:
        name: order_count
        filter: "{{ Dimension('order_id__ordered_at') }} is not null"
  - name: avg_order
    label: Average order
    type: ratio
    type_params:
      numerator: revenue
      denominator: orders_n
  - name: revenue_plus
    label: Revenue plus
    type: derived
    type_params:
      expr: revenue + 1
      metrics: [revenue]
saved_queries:
  - name: weekly_revenue
    query_params:
      metrics: [revenue, avg_order]
      group_by: ["TimeDimension('order_id__ordered_at', 'week')"]
    exports:
      - name: weekly_revenue_export
        config:
          export_as: table
`;

const FILES = {
  'dbt_project.yml': projectYml('sem_it'),
  'models/orders.sql': "select 1 as id, 10 as amount, date '2024-01-01' as ordered_at\n",
  'models/semantic.yml': SEMANTIC,
};

await describeEngines('semantic layer', (engine) => {
  let p: Project;
  before(async () => {
    p = await Project.create(engine, FILES);
  });
  after(async () => {
    await p?.cleanup();
  });

  it('parses semantic models, metrics and saved queries into manifest.json with dbt’s depends_on, valid against manifest v12', async () => {
    const r = await p.cli('parse');
    assert.equal(r.code, 0, r.output);
    assert.doesNotMatch(r.output, /\[unsupported\]/);
    const m = p.json<any>('target/manifest.json');
    assert.ok(validate(m), JSON.stringify((schemaCheck.errors ?? []).slice(0, 6), null, 1));
    const sm = m.semantic_models['semantic_model.sem_it.orders_sm'];
    assert.deepEqual(sm.depends_on.nodes, ['model.sem_it.orders']);
    assert.deepEqual(sm.fqn, ['sem_it', 'orders_sm']);
    assert.equal(sm.original_file_path, 'models/semantic.yml');
    assert.deepEqual([sm.node_relation.alias, sm.node_relation.schema_name], ['orders', p.schema]);
    assert.equal(sm.node_relation.relation_name, m.nodes['model.sem_it.orders'].relation_name);
    assert.deepEqual(sm.measures.map((x: any) => x.name), ['order_total', 'order_count']);
    assert.deepEqual(m.metrics['metric.sem_it.revenue'].depends_on.nodes, ['semantic_model.sem_it.orders_sm']);
    assert.deepEqual(m.metrics['metric.sem_it.revenue'].type_params.measure.name, 'order_total');
    assert.deepEqual(m.metrics['metric.sem_it.avg_order'].depends_on.nodes, ['metric.sem_it.orders_n', 'metric.sem_it.revenue']);
    assert.deepEqual(m.metrics['metric.sem_it.revenue_plus'].depends_on.nodes, ['metric.sem_it.revenue']);
    assert.deepEqual(m.saved_queries['saved_query.sem_it.weekly_revenue'].depends_on.nodes, ['metric.sem_it.avg_order', 'metric.sem_it.revenue']);
    assert.deepEqual(m.parent_map['metric.sem_it.revenue'], ['semantic_model.sem_it.orders_sm']);
    assert.ok(m.child_map['model.sem_it.orders'].includes('semantic_model.sem_it.orders_sm'));
  });

  it('ls lists them by resource type with dbt’s selectors, and selects them by method', async () => {
    const r = await p.cli('ls', ['--resource-type', 'metric']);
    assert.equal(r.code, 0, r.output);
    assert.deepEqual(r.stdout.trim().split('\n').filter((l) => /^metric:/.test(l)), ['metric:sem_it.avg_order', 'metric:sem_it.orders_n', 'metric:sem_it.revenue', 'metric:sem_it.revenue_plus']);
    const s = await p.cli('ls', ['--resource-type', 'semantic_model', '--resource-type', 'saved_query']);
    assert.equal(s.code, 0, s.output);
    assert.deepEqual(s.stdout.trim().split('\n').filter((l) => /^(semantic_model|saved_query):/.test(l)), ['saved_query:sem_it.weekly_revenue', 'semantic_model:sem_it.orders_sm']);
    const up = await p.cli('ls', ['--select', '+metric:revenue', '--resource-type', 'model', '--resource-type', 'metric', '--output', 'name']);
    assert.equal(up.code, 0, up.output);
    assert.deepEqual(up.stdout.trim().split('\n').filter((l) => /^\w+$/.test(l)).sort(), ['orders', 'revenue']);
    const run = await p.cli('run');
    assert.equal(run.code, 0, run.output);
    assert.equal(await p.count(`${p.schema}.orders`), 1, 'the model is built; metrics are not executed');
  });

  it('a metric using a missing measure, a saved query using a missing metric, a semantic model referencing a missing model: errors with file and line (exit 2)', async () => {
    p.write({ 'models/semantic.yml': SEMANTIC.replace('measure: order_total', 'measure: order_totl').replace('metrics: [revenue, avg_order]', 'metrics: [revenue, avg_ordr]').replace("ref('orders')", "ref('orderz')") });
    const r = await p.cli('parse');
    assert.equal(r.code, 2, r.output);
    assert.match(r.output, /semantic model 'orders_sm' refers to 'orderz', which does not exist/);
    assert.match(r.output, /models\/semantic\.yml:5/);
    assert.match(r.output, /metric 'revenue' uses measure 'order_totl', which no semantic model defines/);
    assert.match(r.output, /models\/semantic\.yml:28/);
    assert.match(r.output, /saved query 'weekly_revenue' uses metric 'avg_ordr', which does not exist/);
    assert.match(r.output, /models\/semantic\.yml:51/);
    p.write({ 'models/semantic.yml': SEMANTIC });
  });
});
