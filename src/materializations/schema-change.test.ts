/** on_schema_change planning (pure). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeSchemaChange, planSchemaChange, validateOnSchemaChange } from './schema-change.ts';

const target = [
  { name: 'id', dataType: 'integer' },
  { name: 'name', dataType: 'character varying(10)' },
  { name: 'gone', dataType: 'text' },
];
const source = [
  { name: 'id', dataType: 'integer' },
  { name: 'name', dataType: 'character varying(5)' },
  { name: 'added', dataType: 'numeric' },
];

describe('planSchemaChange', () => {
  it('ignore: inserts the table’s columns, changes nothing', () => {
    const p = planSchemaChange('ignore', source, target);
    assert.deepEqual(p.destColumns, target);
    assert.deepEqual([p.add, p.remove, p.alter], [[], [], []]);
    assert.equal(p.schemaChanged, true);
  });

  it('append_new_columns: adds new columns, keeps old ones, inserts the model’s columns', () => {
    const p = planSchemaChange('append_new_columns', source, target);
    assert.deepEqual(p.add, [{ name: 'added', dataType: 'numeric' }]);
    assert.deepEqual(p.remove, []);
    assert.deepEqual(p.destColumns, source);
  });

  it('sync_all_columns: adds, removes, retypes', () => {
    const p = planSchemaChange('sync_all_columns', [...source, { name: 'x', dataType: 'bigint' }], [...target, { name: 'x', dataType: 'integer' }]);
    assert.deepEqual(p.add, [{ name: 'added', dataType: 'numeric' }]);
    assert.deepEqual(p.remove, ['gone']);
    assert.deepEqual(p.alter, [{ name: 'x', from: 'integer', to: 'bigint' }]);
  });

  it('a shorter varchar fits; a longer one widens the table in every mode', () => {
    assert.deepEqual(planSchemaChange('fail', source, target).expand, []);
    const wider = planSchemaChange('ignore', [{ name: 'name', dataType: 'character varying(20)' }], [{ name: 'name', dataType: 'character varying(10)' }]);
    assert.deepEqual(wider.expand, [{ name: 'name', from: 'character varying(10)', to: 'character varying(20)' }]);
    assert.equal(wider.schemaChanged, false);
    const unbounded = planSchemaChange('ignore', [{ name: 'n', dataType: 'character varying' }], [{ name: 'n', dataType: 'character varying(10)' }]);
    assert.equal(unbounded.expand.length, 1);
  });

  it('identical columns: no change', () => {
    const p = planSchemaChange('fail', target, target);
    assert.equal(p.schemaChanged, false);
  });

  it('describes the difference for the fail error', () => {
    const p = planSchemaChange('fail', [...source, { name: 'id2', dataType: 'text' }], [...target, { name: 'id2', dataType: 'integer' }]);
    assert.equal(describeSchemaChange(p), 'new in the model: added (numeric); missing from the model: gone (text); type changed: id2 (integer → text)');
  });
});

describe('validateOnSchemaChange', () => {
  it('accepts dbt’s four values and defaults to ignore', () => {
    assert.deepEqual(validateOnSchemaChange(undefined), { mode: 'ignore' });
    assert.deepEqual(validateOnSchemaChange('sync_all_columns'), { mode: 'sync_all_columns' });
  });
  it('an invalid value falls back to ignore with a warning, as dbt does', () => {
    const r = validateOnSchemaChange('append_new_column');
    assert.equal(r.mode, 'ignore');
    assert.match(r.warning!, /append_new_column/);
  });
});
