/**
 * StateComparison against dbt-core's same_* rules (contracts/graph/nodes.py)
 * and StateSelectorMethod (graph/selector_methods.py), on hand-built manifests.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ManifestBuilder } from './fixtures.ts';
import { StateComparison } from './state.ts';
import type { Manifest } from '../parse/manifest.ts';

const base = () =>
  new ManifestBuilder('p')
    .source('raw', 'orders')
    .model('a', { columns: { id: { description: 'the id', data_type: 'int' } } })
    .model('b', { refs: ['a'] })
    .genericTest('not_null', 'a', 'id')
    .macro('leaf', '1')
    .macro('mid', '{{ leaf() }}', ['leaf'])
    .model('m', { macros: ['mid'] })
    .build();

function cmp(change: (m: Manifest) => void): StateComparison {
  const now = base();
  change(now);
  return new StateComparison(now, base());
}

describe('StateComparison (dbt same_* rules)', () => {
  it('tags, group and the relation keys are not config changes (CompareBehavior.Exclude); meta is', () => {
    const c = cmp((m) => {
      m.nodes['model.p.a']!.config = { ...m.nodes['model.p.a']!.config, tags: ['nightly'], group: 'finance' };
      m.nodes['model.p.b']!.config = { ...m.nodes['model.p.b']!.config, meta: { owner: 'x' } };
    });
    assert.equal(c.isModified('model.p.a'), false);
    assert.equal(c.isModified('model.p.a', 'configs'), false);
    assert.equal(c.isModified('model.p.b', 'configs'), true);
  });

  it('a data test compares only severity, where, limit, … of its config, and its fqn', () => {
    const id = 'test.p.not_null_a_id';
    assert.equal(cmp((m) => void (m.nodes[id]!.config = { ...m.nodes[id]!.config, meta: { x: 1 } })).isModified(id), false);
    assert.equal(cmp((m) => void (m.nodes[id]!.config = { ...m.nodes[id]!.config, severity: 'warn' })).isModified(id), true);
  });

  it('a description counts only with persist_docs; columns with persist_docs.columns', () => {
    const plain = cmp((m) => void (m.nodes['model.p.a']!.columns.id!.description = 'changed'));
    assert.equal(plain.isModified('model.p.a'), false);
    const persisted = (now: Manifest) => {
      for (const m of [now]) m.nodes['model.p.a']!.config = { ...m.nodes['model.p.a']!.config, persist_docs: { columns: true } };
    };
    const before = base();
    persisted(before);
    const now = base();
    persisted(now);
    now.nodes['model.p.a']!.columns.id!.description = 'changed';
    assert.equal(new StateComparison(now, before).isModified('model.p.a', 'persisted_descriptions'), true);
  });

  it('contract: enforcing one is a change; with it enforced, a column type change is', () => {
    const enforce = (m: Manifest) => void (m.nodes['model.p.a']!.config = { ...m.nodes['model.p.a']!.config, contract: { enforced: true } });
    assert.equal(cmp(enforce).isModified('model.p.a', 'contract'), true);
    const before = base();
    enforce(before);
    const same = base();
    enforce(same);
    assert.equal(new StateComparison(same, before).isModified('model.p.a', 'contract'), false);
    const retyped = base();
    enforce(retyped);
    retyped.nodes['model.p.a']!.columns.id!.data_type = 'bigint';
    assert.equal(new StateComparison(retyped, before).isModified('model.p.a', 'contract'), true);
    assert.equal(new StateComparison(retyped, before).isModified('model.p.a', 'body'), false);
  });

  it('a changed, added or removed macro below a node (through another macro) is state:modified.macros', () => {
    const changed = cmp((m) => void (m.macros['macro.p.leaf']!.macro_sql = '2'));
    assert.equal(changed.isModified('model.p.m', 'macros'), true);
    assert.equal(changed.isModified('model.p.m'), true);
    assert.equal(changed.isModified('model.p.a'), false);
    const removed = cmp((m) => {
      delete m.macros['macro.p.leaf'];
    });
    assert.equal(removed.isModified('model.p.m'), true);
  });

  it('a new source is state:new but not state:modified (dbt SourceDefinition.same_contents(None) is true)', () => {
    const now = base();
    const extra = new ManifestBuilder('p').source('raw', 'customers').build();
    Object.assign(now.sources, extra.sources);
    const c = new StateComparison(now, base());
    assert.equal(c.isNew('source.p.raw.customers'), true);
    assert.equal(c.isModified('source.p.raw.customers'), false);
    assert.equal(c.isModified('source.p.raw.customers', 'configs'), true);
  });

  it('a source description is not a change; its schema is (relation)', () => {
    assert.equal(cmp((m) => void (m.sources['source.p.raw.orders']!.description = 'new')).isModified('source.p.raw.orders'), false);
    const moved = cmp((m) => void (m.sources['source.p.raw.orders']!.schema = 'raw2'));
    assert.equal(moved.isModified('source.p.raw.orders'), true);
    assert.equal(moved.isModified('source.p.raw.orders', 'relation'), true);
    assert.equal(moved.isModified('source.p.raw.orders', 'body'), false);
  });
});
