import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { closestNames } from './closest-names.ts';

describe('closestNames', () => {
  it('suggests near names, best first', () => {
    assert.deepEqual(closestNames('ordrs', ['orders', 'customers', 'order_items', 'ordres']), ['orders', 'ordres']);
    assert.deepEqual(closestNames('Orders', ['orders', 'x']), ['orders']);
    assert.deepEqual(closestNames('zzz', ['orders']), []);
    assert.deepEqual(closestNames('a', ['b', 'c', 'd', 'e'], 2), ['b', 'c']);
  });
});
