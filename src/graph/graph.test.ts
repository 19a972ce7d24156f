import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TsdbtError } from '../errors.ts';
import { buildGraph } from './build-graph.ts';
import { assertAcyclic, findCycle } from './cycle.ts';
import { addDependency, largeManifest, ManifestBuilder } from './fixtures.ts';
import { subsetGraph, topologicalGenerations, topologicalOrder } from './topo.ts';

function shop() {
  return new ManifestBuilder('shop')
    .source('raw', 'orders', { dir: 'staging' })
    .seed('country_codes')
    .model('stg_orders', { dir: 'staging', sources: [['raw', 'orders']] })
    .model('orders', { dir: 'marts', refs: ['stg_orders', 'country_codes', 'stg_orders'] })
    .genericTest('not_null', 'orders', 'id')
    .build();
}

describe('buildGraph', () => {
  it('has every node and source, edges parent → child, duplicates collapsed', () => {
    const g = buildGraph(shop());
    assert.equal(g.order, 5);
    assert.deepEqual(g.outNeighbors('source.shop.raw.orders'), ['model.shop.stg_orders']);
    assert.deepEqual(g.inNeighbors('model.shop.orders').sort(), ['model.shop.stg_orders', 'seed.shop.country_codes']);
    assert.deepEqual(g.inNeighbors('test.shop.not_null_orders_id'), ['model.shop.orders']);
    assert.equal(g.size, 4);
  });

  it('builds 10k nodes / 20k edges quickly (time printed, not asserted)', (t) => {
    const m = largeManifest(10_000);
    const t0 = performance.now();
    const g = buildGraph(m);
    const built = performance.now() - t0;
    const t1 = performance.now();
    const cycle = findCycle(g);
    const cycleMs = performance.now() - t1;
    const t2 = performance.now();
    const gens = topologicalGenerations(g);
    const genMs = performance.now() - t2;
    t.diagnostic(
      `10k nodes / ${g.size} edges: build ${built.toFixed(0)} ms, findCycle ${cycleMs.toFixed(0)} ms, generations ${genMs.toFixed(0)} ms`,
    );
    assert.equal(g.order, 10_000);
    assert.equal(cycle, null);
    assert.equal(gens.flat().length, 10_000);
  });
});

describe('cycles', () => {
  it('returns null for a DAG', () => {
    assert.equal(findCycle(buildGraph(shop())), null);
  });

  it('finds a two-node cycle and prints it by name with files', () => {
    const m = new ManifestBuilder('p')
      .model('stg_a', { dir: 'staging', refs: ['int_b'] })
      .model('int_b', { dir: 'intermediate', refs: ['stg_a'] })
      .model('unrelated')
      .build();
    const g = buildGraph(m);
    assert.deepEqual(findCycle(g), ['model.p.stg_a', 'model.p.int_b']);
    assert.throws(
      () => assertAcyclic(m, g),
      (e: unknown) => {
        assert.ok(e instanceof TsdbtError);
        assert.equal(e.code, 'cycle');
        assert.equal(
          e.message,
          'Found a cycle: stg_a → int_b → stg_a\n' +
            '  stg_a  models/staging/stg_a.sql\n' +
            '  int_b  models/intermediate/int_b.sql',
        );
        assert.equal(e.file, 'models/staging/stg_a.sql');
        assert.equal(e.line, 1);
        assert.match(e.hint!, /remove one of the refs/);
        assert.match(e.hint!, /ref\('int_b'\) in stg_a \(models\/staging\/stg_a\.sql:1\)/);
        return true;
      },
    );
  });

  it('finds a self-reference', () => {
    const m = new ManifestBuilder('p').model('a').build();
    addDependency(m, 'model.p.a', 'model.p.a', 3);
    const g = buildGraph(m);
    assert.deepEqual(findCycle(g), ['model.p.a']);
    assert.throws(() => assertAcyclic(m, g), /Found a cycle: a → a\n {2}a {2}models\/a\.sql/);
    assert.throws(() => topologicalOrder(g), (e: unknown) => e instanceof TsdbtError && e.code === 'cycle');
  });

  it('finds a long cycle at the end of a 10k chain without overflowing the stack', () => {
    const m = new ManifestBuilder('p').build();
    const n = 10_000;
    for (let i = 0; i < n; i++) {
      const base = largeManifest(1).nodes['model.big.m0']!;
      m.nodes[`model.p.m${i}`] = {
        ...base,
        unique_id: `model.p.m${i}`,
        name: `m${i}`,
        original_file_path: `models/m${i}.sql`,
        depends_on: { nodes: i > 0 ? [`model.p.m${i - 1}`] : [], macros: [] },
        refs: [],
      };
    }
    addDependency(m, 'model.p.m0', `model.p.m${n - 1}`);
    const cycle = findCycle(buildGraph(m));
    assert.equal(cycle?.length, n);
    assert.throws(() => assertAcyclic(m, buildGraph(m)), /Found a cycle: m0 → m1 → .* → m9999 → m0\n.*  … and 9970 more$/s);
  });

  it('topologicalGenerations wraps the graphology-dag error with the cycle ids', () => {
    const m = new ManifestBuilder('p').model('x', { refs: ['y'] }).model('y', { refs: ['x'] }).build();
    assert.throws(() => topologicalGenerations(buildGraph(m)), /Found a cycle: model\.p\.x → model\.p\.y → model\.p\.x/);
  });
});

describe('topological helpers', () => {
  it('orders parents before children, in generations', () => {
    const g = buildGraph(shop());
    const gens = topologicalGenerations(g);
    assert.deepEqual(gens.map((x) => x.sort()), [
      ['seed.shop.country_codes', 'source.shop.raw.orders'],
      ['model.shop.stg_orders'],
      ['model.shop.orders'],
      ['test.shop.not_null_orders_id'],
    ]);
    const order = topologicalOrder(g);
    assert.ok(order.indexOf('model.shop.stg_orders') < order.indexOf('model.shop.orders'));
  });

  it('subsetGraph keeps ordering through unselected nodes', () => {
    const g = buildGraph(shop());
    const sub = subsetGraph(g, ['source.shop.raw.orders', 'model.shop.orders', 'test.shop.not_null_orders_id']);
    assert.equal(sub.order, 3);
    assert.ok(sub.hasEdge('source.shop.raw.orders', 'model.shop.orders'));
    assert.ok(sub.hasEdge('model.shop.orders', 'test.shop.not_null_orders_id'));
    assert.equal(sub.size, 2);
  });
});
