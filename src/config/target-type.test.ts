import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dbtAdapterType, relationDatabase } from './target-type.ts';

test('relationDatabase: the dbname on postgres (default postgres); always postgres on PGlite', () => {
  assert.equal(relationDatabase({ type: 'postgres', dbname: 'warehouse' }), 'warehouse');
  assert.equal(relationDatabase({ type: 'postgres' }), 'postgres');
  assert.equal(relationDatabase({ type: 'pglite', dbname: 'warehouse' }), 'postgres');
});

test('dbtAdapterType: PGlite is postgres to dbt', () => {
  assert.equal(dbtAdapterType({ type: 'pglite' }), 'postgres');
  assert.equal(dbtAdapterType({ type: 'postgres' }), 'postgres');
});
