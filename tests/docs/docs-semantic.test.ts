/**
 * Issue 11 in the docs site: `tsdbt docs generate` on a small PGlite project with a model, a semantic
 * model, two metrics and a saved query draws the semantic layer as dbt's docs site does (nodes
 * downstream of what depends_on names, never executed: MetricFlow's job), lists it in the legend, and
 * gives a metric a page with its label, type and upstream semantic model.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { freshPgliteDir } from '../../src/adapters/testing.ts';
import { browserSkipReason, launchBrowser, tsdbt } from './helpers.ts';

const SEMANTIC = `version: 2
semantic_models:
  - name: orders_sm
    description: Orders, one row each.
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
metrics:
  - name: revenue
    label: Total revenue
    description: Sum of order totals.
    type: simple
    type_params:
      measure: order_total
  - name: revenue_plus
    label: Revenue plus
    type: derived
    type_params:
      expr: revenue + 1
      metrics: [revenue]
saved_queries:
  - name: weekly_revenue
    query_params:
      metrics: [revenue_plus]
      group_by: ["TimeDimension('order_id__ordered_at', 'week')"]
`;

describe('tsdbt docs: the semantic layer (PGlite; the page is the same for any adapter)', () => {
  let dir: string;
  let db: string;

  before(async () => {
    db = await freshPgliteDir();
    dir = mkdtempSync(join(tmpdir(), 'tsdbt-docs-semantic-'));
    const files: Record<string, string> = {
      'dbt_project.yml': "name: shop\nversion: '1.0.0'\nconfig-version: 2\nprofile: shop\n",
      'profiles.yml': `shop:\n  target: dev\n  outputs:\n    dev:\n      type: pglite\n      path: ${JSON.stringify(db)}\n      schema: main\n      threads: 1\n`,
      'models/orders.sql': "select 1 as id, 10 as amount, date '2024-01-01' as ordered_at",
      'models/semantic.yml': SEMANTIC,
    };
    for (const [rel, text] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, rel)), { recursive: true });
      writeFileSync(join(dir, rel), text);
    }
    const r = await tsdbt(dir, ['docs', 'generate']);
    assert.equal(r.code, 0, r.output);
  });

  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    if (db) rmSync(db, { recursive: true, force: true });
  });

  it('embeds the semantic model, metrics and saved query as nodes with their depends_on edges', () => {
    const html = readFileSync(join(dir, 'target', 'index.html'), 'utf8');
    const m = /<script id="tsdbt-data" type="application\/json">([\s\S]*?)<\/script>/.exec(html);
    assert.ok(m, 'index.html embeds the docs data');
    const data = JSON.parse(m[1]!) as { nodes: { id: string; resourceType: string }[]; edges: [number, number][] };
    const types = Object.fromEntries(data.nodes.map((n) => [n.id, n.resourceType]));
    assert.deepEqual(types, {
      'model.shop.orders': 'model',
      'semantic_model.shop.orders_sm': 'semantic_model',
      'metric.shop.revenue': 'metric',
      'metric.shop.revenue_plus': 'metric',
      'saved_query.shop.weekly_revenue': 'saved_query',
    });
    const edges = data.edges.map(([a, b]) => `${data.nodes[a]!.id} -> ${data.nodes[b]!.id}`).sort();
    assert.deepEqual(edges, [
      'metric.shop.revenue -> metric.shop.revenue_plus',
      'metric.shop.revenue_plus -> saved_query.shop.weekly_revenue',
      'model.shop.orders -> semantic_model.shop.orders_sm',
      'semantic_model.shop.orders_sm -> metric.shop.revenue',
    ]);
  });

  it('lists them in the legend, and a metric\'s page shows its label and upstream semantic model', { skip: browserSkipReason() }, async () => {
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage();
      await page.goto(`${pathToFileURL(join(dir, 'target', 'index.html')).href}#!/metric/metric.shop.revenue`);
      await page.locator('#panel h1', { hasText: 'revenue' }).waitFor();
      const legend = (await page.locator('#legend .legend-item').allTextContents()).map((t) => t.trim());
      for (const item of ['model 1', 'semantic model 1', 'metric 2', 'saved query 1']) assert.ok(legend.includes(item), `legend ${JSON.stringify(legend)} lists '${item}'`);
      const facts = await page.locator('#panel table.facts').textContent();
      assert.match(facts!, /labelTotal revenue/);
      assert.match(facts!, /metric typesimple/);
      assert.match((await page.locator('#panel').textContent())!, /Sum of order totals\./);
      const dependsOn = page.locator('#panel .lineage-links > div').first();
      assert.match((await dependsOn.locator('h2').textContent())!, /Depends on \(1\)/);
      assert.match((await dependsOn.textContent())!, /orders_sm/);
    } finally {
      await browser.close();
    }
  });
});
