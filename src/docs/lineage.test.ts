import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ManifestBuilder } from '../graph/fixtures.ts';
import { buildGraph } from '../graph/index.ts';
import { docsLineageGraph, listLineage, selectLineage, toDot, toLineageJson, toMermaid } from './lineage.ts';
import { layoutLayered } from './layout.ts';
import { buildDocsData } from './docs-data.ts';
import { emptyCatalog } from './catalog.ts';

/** raw.events (source) and a seed → staging → dwh → mart, plus a model from literal values and tests. */
function project() {
  return new ManifestBuilder('shop')
    .source('raw', 'events')
    .seed('countries')
    .model('stg_events', { dir: 'staging', sources: [['raw', 'events']], tags: ['staging'] })
    .model('channels', { dir: 'dwh' })
    .model('fct_events', { dir: 'dwh', refs: ['stg_events', 'countries', 'channels'], description: 'Events, one row each.' })
    .model('mart_daily', { dir: 'mart', refs: ['fct_events'], tags: ['nightly'] })
    .genericTest('unique', 'fct_events', 'event_id')
    .genericTest('not_null', 'fct_events', 'event_id')
    .singularTest('daily_matches_events', { refs: ['mart_daily', 'fct_events'] })
    .build();
}

describe('docs lineage', () => {
  it('draws models, seeds and sources but not tests', () => {
    const m = project();
    const g = docsLineageGraph(m, buildGraph(m));
    assert.deepEqual(g.nodes().sort(), [
      'model.shop.channels',
      'model.shop.fct_events',
      'model.shop.mart_daily',
      'model.shop.stg_events',
      'seed.shop.countries',
      'source.shop.raw.events',
    ]);
    assert.equal(g.size, 5);
  });

  it('prints Mermaid left to right, by column, with shapes per resource type', () => {
    const m = project();
    const text = toMermaid(listLineage(m, docsLineageGraph(m, buildGraph(m))));
    assert.equal(
      text,
      [
        'flowchart LR',
        '  seed_countries[("countries")]:::seed',
        '  source_raw_events[("raw.events")]:::source',
        '  model_channels["channels"]:::model',
        '  model_stg_events["stg_events"]:::model',
        '  model_fct_events["fct_events"]:::model',
        '  model_mart_daily["mart_daily"]:::model',
        '  model_channels --> model_fct_events',
        '  model_fct_events --> model_mart_daily',
        '  model_stg_events --> model_fct_events',
        '  seed_countries --> model_fct_events',
        '  source_raw_events --> model_stg_events',
        '  classDef seed fill:#2e9e5b,stroke:#333,color:#fff',
        '  classDef source fill:#d9822b,stroke:#333,color:#fff',
        '  classDef model fill:#2f6fdf,stroke:#333,color:#fff',
        '',
      ].join('\n'),
    );
  });

  it('escapes Mermaid labels and keeps ids unique', () => {
    const listing = {
      nodes: [
        { uniqueId: 'model.a.x_y', name: 'x_y', resourceType: 'model' as const, path: 'a', depth: 0 },
        { uniqueId: 'model.b.x.y', name: 'x.y', resourceType: 'model' as const, path: 'b', depth: 0 },
        { uniqueId: 'model.c.q', name: 'q "quoted" <b>', resourceType: 'model' as const, path: 'c', depth: 0 },
      ],
      edges: [['model.a.x_y', 'model.b.x.y'] as const],
    };
    const text = toMermaid(listing);
    assert.match(text, /model_x_y\["x_y"\]/);
    assert.match(text, /model_x_y_2\["x\.y"\]/);
    assert.match(text, /\["q #quot;quoted#quot; #lt;b#gt;"\]/);
    assert.match(text, /model_x_y --> model_x_y_2/);
  });

  it('prints Graphviz DOT with unique_ids as node ids and escaped strings', () => {
    const m = project();
    const dot = toDot(listLineage(m, docsLineageGraph(m, buildGraph(m))), 'shop "docs"');
    assert.match(dot, /^digraph "shop \\"docs\\"" \{\n  rankdir=LR;/);
    assert.match(dot, /"source\.shop\.raw\.events" \[label="raw\.events", shape=cylinder, fillcolor="#d9822b"\];/);
    assert.match(dot, /"model\.shop\.fct_events" -> "model\.shop\.mart_daily";/);
    assert.equal(dot.match(/->/g)?.length, 5);
    assert.ok(dot.endsWith('}\n'));
  });

  it('prints JSON with depths (columns)', () => {
    const m = project();
    const json = JSON.parse(toLineageJson(listLineage(m, docsLineageGraph(m, buildGraph(m)))));
    const depth = Object.fromEntries(json.nodes.map((n: { name: string; depth: number }) => [n.name, n.depth]));
    // channels has no parents but is a model: it sits one column left of fct_events, not with the raw data.
    assert.deepEqual(depth, { countries: 0, 'raw.events': 0, stg_events: 1, channels: 1, fct_events: 2, mart_daily: 3 });
    assert.deepEqual(json.edges[0], { from: 'model.shop.channels', to: 'model.shop.fct_events' });
  });

  it('selects with dbt syntax, sources included', () => {
    const m = project();
    const g = buildGraph(m);
    assert.deepEqual(selectLineage(m, g, ['+stg_events']), ['model.shop.stg_events', 'source.shop.raw.events']);
    assert.deepEqual(selectLineage(m, g, ['tag:nightly']), ['model.shop.mart_daily']);
    assert.deepEqual(selectLineage(m, g, ['fct_events+'], ['mart_daily']), ['model.shop.fct_events']);
    // Unselected nodes in between keep their descendants connected.
    const sub = docsLineageGraph(m, g, selectLineage(m, g, ['source:raw', 'mart_daily']));
    assert.deepEqual(sub.edges().map((e) => `${sub.source(e)} -> ${sub.target(e)}`), ['source.shop.raw.events -> model.shop.mart_daily']);
  });
});

describe('layered layout', () => {
  it('puts each node in the column of its longest path from a root, columns centred on y = 0', () => {
    const m = project();
    const lin = docsLineageGraph(m, buildGraph(m));
    const { points, maxDepth, columnWidth } = layoutLayered(lin);
    assert.equal(maxDepth, 3);
    assert.equal(points.get('model.shop.mart_daily')!.x, 3 * columnWidth);
    assert.equal(points.get('model.shop.channels')!.depth, 0); // keepLeft defaults to true
    const col0 = [...points.values()].filter((p) => p.depth === 0).map((p) => p.y);
    assert.equal(col0.reduce((a, b) => a + b, 0), 0);
  });

  it('orders a column by its parents to avoid crossings', () => {
    // a1 → b1, a2 → b2: whatever the initial order, b1 ends level with a1.
    const m = new ManifestBuilder('p')
      .seed('a1')
      .seed('a2')
      .model('zz_b1', { refs: ['a1'] })
      .model('aa_b2', { refs: ['a2'] })
      .build();
    const { points } = layoutLayered(docsLineageGraph(m, buildGraph(m)));
    assert.equal(points.get('model.p.zz_b1')!.y, points.get('seed.p.a1')!.y);
    assert.equal(points.get('model.p.aa_b2')!.y, points.get('seed.p.a2')!.y);
  });
});

describe('docs data', () => {
  it('attaches tests to their nodes and columns, never as nodes', () => {
    const m = project();
    m.nodes['model.shop.fct_events']!.columns = { event_id: { name: 'event_id', description: 'The **key**.', meta: {}, tags: [] } };
    const d = buildDocsData({ manifest: m, graph: buildGraph(m), catalog: emptyCatalog(), catalogEmpty: true, compiled: false, runResults: null });
    assert.equal(d.nodes.length, 6);
    assert.equal(d.edges.length, 5);
    const fct = d.nodes.find((n) => n.name === 'fct_events')!;
    assert.deepEqual(fct.tests.map((t) => d.tests[t]!.kind).sort(), ['not_null', 'singular', 'unique']);
    assert.deepEqual(fct.columns[0]!.tests.map((t) => d.tests[t]!.kind).sort(), ['not_null', 'unique']);
    const mart = d.nodes.find((n) => n.name === 'mart_daily')!;
    assert.deepEqual(mart.tests.map((t) => d.tests[t]!.kind), ['singular']);
    assert.deepEqual(d.layout.columns, ['seeds · sources', 'dwh · staging', 'dwh', 'mart']);
  });

  it('embeds text as written: nothing is rewritten (secrets are kept out structurally, src/secrets.ts)', () => {
    const m = project();
    m.nodes['model.shop.mart_daily']!.raw_code = "select 'a' as a, 'expected' as e";
    const d = buildDocsData({ manifest: m, graph: buildGraph(m), catalog: emptyCatalog(), catalogEmpty: true, compiled: false, runResults: null });
    assert.ok(JSON.stringify(d).includes("select 'a' as a, 'expected' as e"));
  });

  it('gives each column its upstream columns as node indexes, and lists the SQL\'s columns when the catalog has none', () => {
    const m = project();
    m.nodes['model.shop.fct_events']!.columns = { event_id: { name: 'event_id', description: 'The key.', meta: {}, tags: [] } };
    const lineage = new Map([
      [
        'model.shop.fct_events',
        {
          columns: {
            event_id: { kind: 'direct' as const, upstream: [{ node: 'model.shop.stg_events', column: 'id', kind: 'direct' as const }] },
            n: { kind: 'aggregated' as const, upstream: [{ node: 'model.shop.stg_events', column: 'id', kind: 'aggregated' as const }, { node: 'outside.thing', column: 'x', kind: 'derived' as const }] },
          },
          filters: [],
          complete: true,
          notes: [],
        },
      ],
    ]);
    const d = buildDocsData({ manifest: m, graph: buildGraph(m), catalog: emptyCatalog(), catalogEmpty: true, compiled: false, runResults: null, columnLineage: lineage });
    const fct = d.nodes.find((n) => n.name === 'fct_events')!;
    const stg = d.nodes.findIndex((n) => n.name === 'stg_events');
    assert.deepEqual(
      fct.columns.map((c) => [c.name, c.description, c.lineage]),
      [
        ['event_id', 'The key.', { kind: 'direct', upstream: [{ node: stg, column: 'id', kind: 'direct' }] }],
        // Not documented, not in a catalog: the SQL's column is listed; an upstream outside the site is left out.
        ['n', '', { kind: 'aggregated', upstream: [{ node: stg, column: 'id', kind: 'aggregated' }] }],
      ],
    );
    assert.equal(d.nodes.find((n) => n.name === 'mart_daily')!.columns.length, 0);
  });
});

/** project() plus dbt's semantic layer as manifest.json holds it (src/parse/semantic.ts): orders_sm on mart_daily, two metrics, a saved query. */
function semanticProject() {
  const m = project();
  const entry = (type: 'semantic_model' | 'metric' | 'saved_query', name: string, parents: string[], extra: Record<string, unknown>) => ({
    unique_id: `${type}.shop.${name}`,
    resource_type: type,
    name,
    package_name: 'shop',
    original_file_path: 'models/mart/semantic.yml',
    fqn: ['shop', 'mart', name],
    depends_on: { macros: [], nodes: parents },
    ...extra,
  });
  m.semantic_models = {
    'semantic_model.shop.orders_sm': entry('semantic_model', 'orders_sm', ['model.shop.mart_daily'], {
      description: 'Orders, one row each.',
      entities: [{ name: 'order_id', type: 'primary' }],
      measures: [{ name: 'order_total', agg: 'sum' }],
      dimensions: [{ name: 'ordered_at', type: 'time' }],
    }),
  };
  m.metrics = {
    'metric.shop.revenue': entry('metric', 'revenue', ['semantic_model.shop.orders_sm'], { label: 'Revenue', type: 'simple', type_params: { measure: { name: 'order_total' } }, description: 'Sum of order totals.' }),
    'metric.shop.revenue_plus': entry('metric', 'revenue_plus', ['metric.shop.revenue'], { label: 'Revenue plus', type: 'derived', type_params: { expr: 'revenue + 1' } }),
  };
  m.saved_queries = {
    'saved_query.shop.weekly': entry('saved_query', 'weekly', ['metric.shop.revenue', 'metric.shop.revenue_plus'], { query_params: { metrics: ['revenue', 'revenue_plus'], group_by: [] } }),
  };
  return m;
}

describe('docs lineage: the semantic layer', () => {
  // dbt's docs site draws semantic models, metrics and saved queries downstream of what they depend on (depends_on.nodes).
  it('draws semantic models, metrics and saved queries with their depends_on edges', () => {
    const m = semanticProject();
    const listing = listLineage(m, docsLineageGraph(m, buildGraph(m)));
    const kinds = Object.fromEntries(listing.nodes.map((n) => [n.name, n.resourceType]));
    assert.equal(kinds.orders_sm, 'semantic_model');
    assert.equal(kinds.revenue, 'metric');
    assert.equal(kinds.weekly, 'saved_query');
    const semEdges = listing.edges.filter(([, b]) => /^(semantic_model|metric|saved_query)\./.test(b));
    assert.deepEqual(semEdges, [
      ['metric.shop.revenue', 'metric.shop.revenue_plus'],
      ['metric.shop.revenue', 'saved_query.shop.weekly'],
      ['metric.shop.revenue_plus', 'saved_query.shop.weekly'],
      ['model.shop.mart_daily', 'semantic_model.shop.orders_sm'],
      ['semantic_model.shop.orders_sm', 'metric.shop.revenue'],
    ]);
    const depth = Object.fromEntries(listing.nodes.map((n) => [n.name, n.depth]));
    assert.ok(depth.mart_daily! < depth.orders_sm! && depth.orders_sm! < depth.revenue! && depth.revenue! < depth.weekly!);
    const mermaid = toMermaid(listing);
    assert.match(mermaid, /semantic_model_orders_sm\{\{"orders_sm"\}\}:::semantic_model/);
    assert.match(mermaid, /classDef metric fill:#a83a3a/);
    assert.match(toDot(listing), /"metric.shop.revenue" \[label="revenue", shape=octagon/);
  });

  it('gives each a page: description, a metric\'s label and type, a semantic model\'s entities / measures / dimensions', () => {
    const m = semanticProject();
    const d = buildDocsData({ manifest: m, graph: buildGraph(m), catalog: emptyCatalog(), catalogEmpty: true, compiled: false, runResults: null });
    const byName = (name: string) => d.nodes.find((n) => n.name === name)!;
    const revenue = byName('revenue');
    assert.equal(revenue.resourceType, 'metric');
    assert.equal(revenue.description, 'Sum of order totals.');
    assert.deepEqual(revenue.facts, [['label', 'Revenue'], ['metric type', 'simple'], ['measure', 'order_total']]);
    assert.deepEqual(byName('orders_sm').facts, [['entities', 'order_id (primary)'], ['measures', 'order_total (sum)'], ['dimensions', 'ordered_at (time)']]);
    assert.deepEqual(byName('weekly').facts, [['metrics', 'revenue, revenue_plus']]);
    // The metric's upstream semantic model is an edge of the page data (its page lists it under "Depends on").
    const sm = d.nodes.indexOf(byName('orders_sm'));
    assert.ok(d.edges.some(([a, b]) => a === sm && b === d.nodes.indexOf(revenue)));
    assert.equal(revenue.columns.length, 0);
  });
});
