/**
 * The docs page's folder overview and search, without a browser: grouping,
 * first expansion, aggregated edges, the items' layout, search ranking,
 * dbt's graph operators in the search box (`+model+`, `2+model+1` as in dbt's
 * node selection syntax) and where a column is used.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildFolderTree, initialExpansion, itemOf, layoutItems, overviewItems, allFolders, type GroupableNode } from './aggregate.ts';
import { buildSearchIndex, columnUsage, parseLineageSelector, resolveName, searchNodes, type SearchableNode } from './search.ts';
import { layeredSpacing } from './spacing.ts';

const node = (path: string, extra: Partial<GroupableNode> = {}): GroupableNode => ({
  name: path.slice(path.lastIndexOf('/') + 1).replace(/\.sql$/, ''),
  path,
  packageName: 'shop',
  resourceType: 'model',
  depth: 0,
  ...extra,
});

describe('folder overview', () => {
  const nodes: GroupableNode[] = [
    node('models/staging/stripe/_sources.yml', { resourceType: 'source', sourceName: 'stripe', name: 'stripe.charges' }),
    node('models/staging/stripe/stg_charges.sql'),
    node('models/staging/shopify/stg_orders.sql'),
    node('models/marts/finance/fct_revenue.sql'),
    node('models/marts/finance/dim_customer.sql'),
    node('models/marts/top.sql'),
    node('seeds/countries.csv', { resourceType: 'seed' }),
    node('models/calendar/days.sql', { packageName: 'utils' }),
    node('models/exposures.yml', { resourceType: 'exposure', name: 'weekly' }),
  ];
  const tree = buildFolderTree(nodes, 'shop');

  it('groups by folder; sources by source name, exposures together, other packages under one box each', () => {
    assert.deepEqual(tree.roots, ['exposures', 'models', 'package:utils', 'seeds', 'sources']);
    assert.equal(tree.nodeFolder[0], 'sources/stripe');
    assert.equal(tree.nodeFolder[1], 'models/staging/stripe');
    assert.equal(tree.nodeFolder[7], 'package:utils/models/calendar');
    assert.equal(tree.groups.get('models')!.total, 5);
    assert.equal(tree.groups.get('models/marts')!.total, 3);
    assert.deepEqual(tree.groups.get('models/marts')!.members, [5]);
    assert.equal(tree.groups.get('package:utils')!.kind, 'package');
    assert.equal(tree.groups.get('package:utils')!.label, 'package utils');
    assert.equal(tree.groups.get('models/marts/finance')!.label, 'marts/finance');
  });

  it('opens the biggest folders first within the budget, never a package; a small budget keeps boxes', () => {
    const few = initialExpansion(tree, 6);
    assert.ok(few.has('models'), 'models (5 nodes) opens: 3 items instead of 1');
    assert.ok(!few.has('package:utils'));
    const items = new Set(nodes.map((_, i) => itemOf(tree, few, i)));
    assert.ok(items.size <= 8, `${items.size} items`);
    assert.equal(itemOf(tree, few, 7), 'g:package:utils');
    assert.equal(itemOf(tree, new Set(), 3), 'g:models');
    assert.equal(itemOf(tree, allFolders(tree), 3), 'n:3');
  });

  it('aggregates edges between shown items with counts and drops edges inside a box', () => {
    const edges: [number, number][] = [[0, 1], [1, 3], [2, 3], [3, 5], [4, 5], [7, 3]];
    const expanded = new Set(['models']);
    const ov = overviewItems(tree, expanded, edges);
    const byPair = new Map(ov.edges.map(([a, b, c]) => [`${a}>${b}`, c]));
    assert.equal(byPair.get('g:sources>g:models/staging'), 1);
    assert.equal(byPair.get('g:models/staging>g:models/marts'), 2);
    assert.equal(byPair.get('g:package:utils>g:models/marts'), 1);
    assert.ok(![...byPair.keys()].some((k) => k === 'g:models/marts>g:models/marts'));
  });

  it('lays items out left to right by longest path, even when two folders depend on each other', () => {
    const lay = layoutItems(['a', 'b', 'c', 'd'], [['a', 'b', 1], ['b', 'c', 3], ['c', 'b', 1], ['a', 'd', 1], ['d', 'c', 1]], {
      sortKey: (id) => id,
      spacing: (c, t) => layeredSpacing(c, t),
    });
    const r = (id: string) => lay.points.get(id)!.rank;
    assert.equal(r('a'), 0);
    assert.ok(r('b') > r('a') && r('c') > r('b') && r('c') > r('d'), JSON.stringify([...lay.points]));
    assert.equal(lay.columns, 3);
  });
});

describe('search', () => {
  const nodes: SearchableNode[] = [
    { id: 'model.s.dim_customer', name: 'dim_customer', path: 'models/marts/dim_customer.sql', tags: ['daily'], description: 'One row per customer.', columns: [{ name: 'customer_id', description: 'The key.' }, { name: 'lifetime_value', description: 'Predicted revenue over the customer lifetime.' }] },
    { id: 'model.s.fct_orders', name: 'fct_orders', path: 'models/marts/fct_orders.sql', tags: [], description: 'Orders, **with** refunds netted.', columns: [{ name: 'customer_id', description: '' }, { name: 'order_id', description: '' }] },
    { id: 'model.s.customer_id_map', name: 'customer_id_map', path: 'models/staging/customer_id_map.sql', tags: [], description: '', columns: [] },
    { id: 'source.s.raw.events', name: 'raw.events', path: 'models/src.yml', tags: [], description: '', columns: [] },
  ];
  const index = buildSearchIndex(nodes);
  const names = (q: string) => searchNodes(index, q, (i) => nodes[i]!.name).map((h) => `${nodes[h.i]!.name}${h.why ? ` [${h.why}]` : ''}`);

  it('finds nodes by column name (after name matches) and by description', () => {
    assert.deepEqual(names('customer_id'), ['customer_id_map', 'dim_customer [column customer_id]', 'fct_orders [column customer_id]']);
    assert.deepEqual(names('column:LIFETIME_VALUE'), ['dim_customer [column lifetime_value]']);
    assert.deepEqual(names('col:order*'), ['fct_orders [column order_id]']);
    assert.deepEqual(names('refunds'), ['fct_orders [description]']);
    assert.deepEqual(names('predicted revenue'), ['dim_customer [column lifetime_value: description]']);
    assert.deepEqual(names('desc:one row'), ['dim_customer [description]']);
    assert.deepEqual(names('tag:daily'), ['dim_customer [tag daily]']);
    assert.deepEqual(names('nothing-like-this'), []);
  });

  it('reads dbt graph operators: +model+, 2+model+1, model+, +model; plain words are not selectors', () => {
    assert.deepEqual(parseLineageSelector('+fct_orders+'), { name: 'fct_orders', up: Infinity, down: Infinity });
    assert.deepEqual(parseLineageSelector('2+fct_orders+1'), { name: 'fct_orders', up: 2, down: 1 });
    assert.deepEqual(parseLineageSelector('fct_orders+'), { name: 'fct_orders', up: 0, down: Infinity });
    assert.deepEqual(parseLineageSelector(' +raw.events '), { name: 'raw.events', up: Infinity, down: 0 });
    assert.equal(parseLineageSelector('fct_orders'), null);
    assert.equal(parseLineageSelector('tag:daily'), null);
    assert.equal(parseLineageSelector('a b+'), null);
    assert.equal(resolveName(index, 'FCT_ORDERS'), 1);
    assert.equal(resolveName(index, 'events'), 3);
    assert.equal(resolveName(index, 'missing'), undefined);
  });

  it('lists where a column is used', () => {
    assert.deepEqual(columnUsage(nodes, 'Customer_ID'), [{ node: 0, column: 0 }, { node: 1, column: 0 }]);
    assert.deepEqual(columnUsage(nodes, 'nope'), []);
  });
});
