/**
 * The snapshot materialization's pure parts: config resolution (dbt's strategy dict,
 * get_hard_deletes_behavior, snapshot_table_column_names), the SQL each step writes
 * (dbt's snapshot_hash_arguments, build_snapshot_table, snapshot_staging_table,
 * postgres__snapshot_merge_sql) and the check strategy's columns. Executed on both
 * engines by tests/integration/snapshots.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TsdbtError } from '../errors.ts';
import { quoteIdentifier, quoteLiteral } from '../adapters/quote.ts';
import { buildSnapshotTableSql, checkColumns, timeTypeWarning, hardDeletesOf, hashArguments, missingMetaColumns, snapshotMergeSql, snapshotSpec, snapshotStagingSql } from './snapshot.ts';

const q = { quoteIdentifier, quoteLiteral };
const target = { schema: 'hist', identifier: 'orders_snap' };

test("hard_deletes as dbt's get_hard_deletes_behavior: invalidate_hard_deletes=true is invalidate; default ignore", () => {
  assert.equal(hardDeletesOf({}), 'ignore');
  assert.equal(hardDeletesOf({ invalidate_hard_deletes: true }), 'invalidate');
  assert.equal(hardDeletesOf({ hard_deletes: 'invalidate' }), 'invalidate');
  assert.equal(hardDeletesOf({ hard_deletes: 'new_record' }), 'new_record');
});

test("dbt_scd_id is dbt's snapshot_hash_arguments over the unique key(s) and updated_at", () => {
  assert.equal(hashArguments(['id', 'updated_at']), "md5(coalesce(cast(id as varchar), '') || '|' || coalesce(cast(updated_at as varchar), ''))");
  const spec = snapshotSpec({ strategy: 'check', unique_key: ['id', 'day'], check_cols: 'all' });
  assert.equal(spec.updatedAt, 'now()::timestamp without time zone'); // check strategy: the snapshot time
  const sql = buildSnapshotTableSql(spec, target, 'select 1 as id, 2 as day', q);
  assert.match(sql, /md5\(coalesce\(cast\(id as varchar\), ''\) \|\| '\|' \|\| coalesce\(cast\(day as varchar\), ''\) \|\| '\|' \|\| coalesce\(cast\(now\(\)::timestamp without time zone as varchar\), ''\)\) as "dbt_scd_id"/);
  assert.match(sql, /coalesce\(nullif\(now\(\)::timestamp without time zone, now\(\)::timestamp without time zone\), null\) as "dbt_valid_to"/);
  assert.doesNotMatch(sql, /dbt_is_deleted/);
});

test('snapshot_meta_column_names and dbt_valid_to_current reach every statement', () => {
  const spec = snapshotSpec({
    strategy: 'timestamp',
    unique_key: 'id',
    updated_at: 'updated_at',
    hard_deletes: 'new_record',
    dbt_valid_to_current: "'9999-12-31'::timestamp",
    snapshot_meta_column_names: { dbt_valid_from: 'Start_At', dbt_valid_to: 'end_at', dbt_is_deleted: 'gone' },
  });
  assert.deepEqual(spec.columns, { dbt_scd_id: 'dbt_scd_id', dbt_updated_at: 'dbt_updated_at', dbt_valid_from: 'start_at', dbt_valid_to: 'end_at', dbt_is_deleted: 'gone' });
  const build = buildSnapshotTableSql(spec, target, 'select 1 as id', q);
  assert.match(build, /coalesce\(nullif\(updated_at, updated_at\), '9999-12-31'::timestamp\) as "end_at"/);
  assert.match(build, /'False'::text as "gone"/);
  const staging = snapshotStagingSql(spec, { target, sourceTemp: 'src', sourceColumns: ['id', 'updated_at'], targetColumns: ['id', 'updated_at', 'dbt_scd_id', 'dbt_updated_at', 'start_at', 'end_at', 'gone'] }, q);
  assert.match(staging, /where \("end_at" = '9999-12-31'::timestamp or "end_at" is null\)/);
  assert.match(staging, /\(snapshotted_data\."start_at" < source_data\.updated_at\) or snapshotted_data\."gone" = 'True'/);
  assert.match(staging, /deletion_records as/);
  const [update, insert] = snapshotMergeSql(spec, target, 'stg', ['id', 'updated_at', 'dbt_scd_id'], q);
  assert.match(update, /^update "hist"\."orders_snap"\nset "end_at" = DBT_INTERNAL_SOURCE\."end_at"/);
  assert.match(update, /and \("hist"\."orders_snap"\."end_at" = '9999-12-31'::timestamp or "hist"\."orders_snap"\."end_at" is null\)$/);
  assert.match(insert, /^insert into "hist"\."orders_snap" \("id", "updated_at", "dbt_scd_id"\)\nselect DBT_INTERNAL_SOURCE\."id"/);
  assert.match(insert, /dbt_change_type::text = 'insert'::text$/);
});

test('hard_deletes ignore stages no deletes; invalidate stages deletes but no deletion records', () => {
  const input = { target, sourceTemp: 'src', sourceColumns: ['id', 'v'], targetColumns: ['id', 'v', 'dbt_scd_id', 'dbt_valid_from', 'dbt_valid_to'] };
  const ignore = snapshotStagingSql(snapshotSpec({ strategy: 'check', unique_key: 'id', check_cols: ['v'] }), input, q);
  assert.doesNotMatch(ignore, /deletes/);
  assert.match(ignore, /snapshotted_data\."v" is distinct from source_data\."v"/);
  const invalidate = snapshotStagingSql(snapshotSpec({ strategy: 'check', unique_key: 'id', check_cols: ['v'], hard_deletes: 'invalidate' }), input, q);
  assert.match(invalidate, /union all\nselect \* from deletes$/);
  assert.doesNotMatch(invalidate, /deletion_records/);
});

test("check_cols: 'all' compares every query column the table has; a column new to the table changes every row (dbt's column_added)", () => {
  const spec = snapshotSpec({ strategy: 'check', unique_key: 'id', check_cols: 'all' });
  assert.deepEqual(checkColumns(spec, ['id', 'v'], ['id', 'v', 'dbt_scd_id']), { columns: ['id', 'v'], columnAdded: false });
  assert.deepEqual(checkColumns(spec, ['id', 'v', 'w'], ['id', 'v', 'dbt_scd_id']), { columns: ['id', 'v'], columnAdded: true });
  const staging = snapshotStagingSql(spec, { target, sourceTemp: 's', sourceColumns: ['id', 'v', 'w'], targetColumns: ['id', 'v', 'dbt_scd_id', 'dbt_valid_from', 'dbt_valid_to'] }, q);
  assert.match(staging, /is not null and \(TRUE\)\)/);
  const listed = snapshotSpec({ strategy: 'check', unique_key: 'id', check_cols: ['V'] });
  assert.deepEqual(checkColumns(listed, ['id', 'v'], ['id', 'v']), { columns: ['v'], columnAdded: false });
  assert.throws(() => checkColumns(listed, ['id', 'x'], ['id']), (e: unknown) => e instanceof TsdbtError && e.code === 'snapshot-check-col-missing' && /'V'/.test(e.message));
});

test('config values written into SQL are checked before any statement', () => {
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ strategy: 'timestamp', unique_key: 'id); drop table x; --', updated_at: 'u' }, /unique_key/],
    [{ strategy: 'timestamp', unique_key: 'id, day', updated_at: 'u' }, /several columns in one string/],
    [{ strategy: 'timestamp', unique_key: 'id', updated_at: 'u; drop table x' }, /updated_at/],
    [{ strategy: 'check', unique_key: 'id', check_cols: ['a b'] }, /check_cols/],
    [{ strategy: 'check', unique_key: 'id', check_cols: 'all', dbt_valid_to_current: "'x' -- " }, /dbt_valid_to_current/],
    [{ strategy: 'check', unique_key: 'id', check_cols: 'all', snapshot_meta_column_names: { dbt_scd_id: 'a"b' } }, /snapshot_meta_column_names\.dbt_scd_id/],
  ];
  for (const [config, re] of bad) {
    assert.throws(() => snapshotSpec(config), (e: unknown) => e instanceof TsdbtError && e.code === 'invalid-snapshot-config' && re.test(e.message), JSON.stringify(config));
  }
});

test("a table without the meta columns is not a snapshot table (dbt's valid_snapshot_target); new_record needs dbt_is_deleted", () => {
  const spec = snapshotSpec({ strategy: 'timestamp', unique_key: 'id', updated_at: 'u', hard_deletes: 'new_record' });
  assert.deepEqual(missingMetaColumns(spec, ['id', 'DBT_SCD_ID', 'dbt_valid_from', 'dbt_valid_to']), ['dbt_is_deleted']);
  assert.deepEqual(missingMetaColumns(spec, ['id']), ['dbt_scd_id', 'dbt_valid_from', 'dbt_valid_to', 'dbt_is_deleted']);
});

test("dbt's check_time_data_types: an updated_at that is not timestamp without time zone is a warning", () => {
  assert.equal(timeTypeWarning('timestamp without time zone'), undefined);
  assert.match(timeTypeWarning('timestamp with time zone')!, /doesn't match derived column 'updated_at' \(timestamp with time zone\)/);
});
