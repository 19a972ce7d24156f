import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readDistribution } from './dist-config.ts';

test('dist: a column, reference/all, unset (dbt-redshift-style names, Citus options)', () => {
  assert.deepEqual(readDistribution({}), {});
  assert.deepEqual(readDistribution({ dist: null }), {});
  assert.deepEqual(readDistribution({ dist: 'user_key' }), { distribution: { kind: 'hash', column: 'user_key' } });
  assert.deepEqual(readDistribution({ dist: 'reference' }), { distribution: { kind: 'reference' } });
  assert.deepEqual(readDistribution({ dist: 'ALL' }), { distribution: { kind: 'reference' } });
  assert.deepEqual(readDistribution({ dist: 'user_key', colocate_with: 'fact_sessions', shard_count: 8 }), {
    distribution: { kind: 'hash', column: 'user_key', colocateWith: 'fact_sessions', shardCount: 8 },
  });
  assert.deepEqual(readDistribution({ dist: 'id', shard_count: '4' }), { distribution: { kind: 'hash', column: 'id', shardCount: 4 } });
});

test('bad dist values are problems, each named', () => {
  assert.match(readDistribution({ dist: 3 }).problem!, /`dist` must be a column name/);
  assert.match(readDistribution({ dist: '' }).problem!, /`dist` must be a column name/);
  assert.match(readDistribution({ colocate_with: 'x' }).problem!, /need `dist: <column>`/);
  assert.match(readDistribution({ dist: 'reference', shard_count: 4 }).problem!, /hash-distributed tables only/);
  assert.match(readDistribution({ dist: 'id', shard_count: 0 }).problem!, /`shard_count` must be a whole number/);
  assert.match(readDistribution({ dist: 'id', shard_count: 2.5 }).problem!, /`shard_count` must be a whole number/);
  assert.match(readDistribution({ dist: 'id', colocate_with: 7 }).problem!, /`colocate_with` must be a model name/);
});
