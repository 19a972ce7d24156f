import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCriterion, parseSelector } from './selector-parse.ts';

describe('parseSelector', () => {
  it('splits words into a union of intersections', () => {
    const ast = parseSelector(['a b', 'tag:x,config.materialized:table']);
    assert.equal(ast.kind, 'union');
    assert.deepEqual(ast.items.map((i) => i.raw), ['a', 'b', 'tag:x,config.materialized:table']);
    assert.deepEqual(ast.items[2]!.items.map((c) => [c.method, c.methodArgs, c.value]), [
      ['tag', [], 'x'],
      ['config', ['materialized'], 'table'],
    ]);
    assert.equal(parseSelector('').items.length, 0);
    assert.equal(parseSelector('  a   b ').items.length, 2);
  });

  it('reads graph operators and depths', () => {
    const c = parseCriterion('2+tag:nightly+3');
    assert.deepEqual(
      { p: c.parents, pd: c.parentsDepth, ch: c.children, cd: c.childrenDepth, m: c.method, v: c.value },
      { p: true, pd: 2, ch: true, cd: 3, m: 'tag', v: 'nightly' },
    );
    const plain = parseCriterion('+orders+');
    assert.deepEqual([plain.parents, plain.parentsDepth, plain.children, plain.childrenDepth], [true, null, true, null]);
    const at = parseCriterion('@orders');
    assert.equal(at.childrensParents, true);
    assert.equal(at.value, 'orders');
  });

  it('infers the default method: path for slashes, file for .sql/.csv, else fqn', () => {
    assert.equal(parseCriterion('models/staging').method, 'path');
    assert.equal(parseCriterion('orders.sql').method, 'file');
    assert.equal(parseCriterion('marts.core.orders').method, 'fqn');
    assert.equal(parseCriterion('2020_orders').method, 'fqn');
    assert.equal(parseCriterion('2020_orders').parents, false);
    assert.equal(parseCriterion('orders').defaultMethod, true);
    assert.equal(parseCriterion('fqn:orders').defaultMethod, false);
  });
});
