/** Golden tests for the SQL builders (pure; no database). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  addColumnsSql,
  createIndexSql,
  indexName,
  parseIndexes,
  withSqlHeader,
  alterColumnTypeSql,
  backupRelation,
  createSchemaSql,
  createTableAsSql,
  createTempTableAsSql,
  createViewAsSql,
  deleteInsertSql,
  dropColumnsSql,
  dropDependentSql,
  dropRelationSql,
  grantsSql,
  helperIdentifier,
  identifierBytes,
  insertIntoSql,
  mergeSql,
  modelSqlOffset,
  recreateDependentSql,
  renameRelationSql,
  swapLockSql,
  tempQualified,
  tmpRelation,
  leftoverLookupParams,
  trimModelSql,
  uniqueKeyList,
  type DependentView,
  type Quoter,
} from './sql.ts';
import { creationOrder } from './dependents.ts';
import { incrementalDml, resolveIncrementalStrategy, schemaChangeSql } from './incremental.ts';
import { planSchemaChange } from './schema-change.ts';
import { TsdbtError } from '../errors.ts';

/** pg's escapeIdentifier / escapeLiteral. */
const q: Quoter = {
  quoteIdentifier: (n) => `"${n.replace(/"/g, '""')}"`,
  quoteLiteral: (v) => {
    const body = `'${v.replace(/'/g, "''")}'`;
    return v.includes('\\') ? ` E${body.replace(/\\/g, '\\\\')}` : body;
  },
};
const orders = { schema: 'analytics', identifier: 'orders' };
const cols = [
  { name: 'id', dataType: 'integer' },
  { name: 'Amount', dataType: 'numeric' },
];

describe('helper names', () => {
  it('appends the suffix when it fits', () => {
    assert.equal(helperIdentifier('orders', '__tsdbt_tmp'), 'orders__tsdbt_tmp');
    assert.deepEqual(tmpRelation(orders), { schema: 'analytics', identifier: 'orders__tsdbt_tmp' });
    assert.deepEqual(backupRelation(orders), { schema: 'analytics', identifier: 'orders__tsdbt_backup' });
  });

  it('an invocation token makes the names unique per invocation, still within 63 bytes', () => {
    assert.deepEqual(tmpRelation(orders, '3fa9c1'), { schema: 'analytics', identifier: 'orders__tsdbt_tmp_3fa9c1' });
    assert.deepEqual(backupRelation(orders, '3fa9c1'), { schema: 'analytics', identifier: 'orders__tsdbt_backup_3fa9c1' });
    const long = { schema: 's', identifier: 'y'.repeat(63) };
    const name = backupRelation(long, 'abcdef').identifier;
    assert.equal(identifierBytes(name), 63);
    assert.match(name, /^y+_[0-9a-f]{8}__tsdbt_backup_abcdef$/);
    assert.throws(() => tmpRelation(orders, 'x; drop'));
    const [schema, exact, prefixes] = leftoverLookupParams(long);
    assert.equal(schema, 's');
    assert.deepEqual(exact, [tmpRelation(long).identifier, backupRelation(long).identifier]);
    assert.deepEqual(prefixes, [tmpRelation(long, 'abcdef').identifier.slice(0, -6), name.slice(0, -6)]);
  });

  it('truncates long aliases to 63 bytes with a hash, keeping them distinct', () => {
    const a = 'x'.repeat(60) + 'a';
    const b = 'x'.repeat(60) + 'b';
    const ta = helperIdentifier(a, '__tsdbt_backup');
    const tb = helperIdentifier(b, '__tsdbt_backup');
    assert.equal(identifierBytes(ta), 63);
    assert.ok(ta.endsWith('__tsdbt_backup'));
    assert.match(ta, /^x+_[0-9a-f]{8}__tsdbt_backup$/);
    assert.notEqual(ta, tb);
  });

  it('never splits a multi-byte character when truncating', () => {
    const alias = 'é'.repeat(31); // 62 bytes
    const name = helperIdentifier(alias, '__tsdbt_tmp');
    assert.ok(identifierBytes(name) <= 63);
    assert.ok(!name.includes('\uFFFD'));
    assert.equal(Buffer.from(name, 'utf8').toString('utf8'), name);
  });
});

describe('DDL builders', () => {
  it('create table as wraps the model SQL on its own lines', () => {
    assert.equal(createTableAsSql(orders, 'select 1 as id;\n', q), 'create table "analytics"."orders"\nas (\nselect 1 as id\n)');
  });

  it('create view as / temporary table', () => {
    assert.equal(createViewAsSql(orders, 'select 1 -- note', q), 'create view "analytics"."orders"\nas (\nselect 1 -- note\n)');
    assert.equal(createTempTableAsSql('orders__tsdbt_incr', 'select 1', q), 'create temporary table "orders__tsdbt_incr"\nas (\nselect 1\n)');
    assert.equal(tempQualified('a"b', q), 'pg_temp."a""b"');
  });

  it('modelSqlOffset maps an error position back into the model SQL', () => {
    const sql = 'select\n  nope';
    const stmt = createTableAsSql(orders, sql, q);
    const off = modelSqlOffset(stmt, sql);
    // Postgres positions are 1-based: "nope" starts at character 10 of the model SQL.
    assert.equal(stmt.indexOf('nope') + 1 - off, sql.indexOf('nope') + 1);
  });

  it('trimModelSql keeps content, drops trailing semicolons and blanks', () => {
    assert.equal(trimModelSql("select ';' ;; \n"), "select ';'");
  });

  it('rename and drop use the kind keyword and quote everything', () => {
    const weird = { schema: 'my schema', identifier: 'we"ird; name' };
    assert.equal(renameRelationSql(weird, 'view', 'x', q), 'alter view "my schema"."we""ird; name" rename to "x"');
    assert.equal(renameRelationSql(orders, 'materialized_view', 'o2', q), 'alter materialized view "analytics"."orders" rename to "o2"');
    assert.equal(dropRelationSql(orders, 'table', q, { cascade: true }), 'drop table if exists "analytics"."orders" cascade');
    assert.equal(dropRelationSql(orders, 'view', q), 'drop view if exists "analytics"."orders"');
    assert.equal(createSchemaSql('a"b', q), 'create schema if not exists "a""b"');
    assert.equal(swapLockSql(), 'select pg_catalog.pg_advisory_xact_lock(500152164980)');
  });
});

describe('dependent views', () => {
  const base: DependentView = {
    oid: '1',
    schema: 'reporting',
    name: 'daily',
    kind: 'view',
    definition: ' SELECT orders.id\n   FROM analytics.orders;',
    owner: 'postgres',
    options: [],
    comment: null,
    columnComments: [],
    grants: [],
    extras: [],
    dependsOn: [],
  };

  it('recreates a plain view with just its definition', () => {
    assert.deepEqual(recreateDependentSql(base, 'postgres', q), ['create view "reporting"."daily" as\n SELECT orders.id\n   FROM analytics.orders']);
    assert.equal(dropDependentSql(base, q), 'drop view "reporting"."daily"');
  });

  it('restores options, owner, comments, grants and extras', () => {
    const v: DependentView = {
      ...base,
      kind: 'materialized_view',
      options: ['fillfactor=70'],
      owner: 'bi',
      comment: "it's daily",
      columnComments: [{ column: 'id', comment: 'key' }],
      grants: [
        { grantee: 'reader', privilege: 'SELECT', grantable: false },
        { grantee: 'PUBLIC', privilege: 'SELECT', grantable: false },
        { grantee: 'lead', privilege: 'SELECT', grantable: true },
      ],
      extras: ['CREATE INDEX daily_id ON reporting.daily USING btree (id)'],
    };
    assert.deepEqual(recreateDependentSql(v, 'postgres', q), [
      'create materialized view "reporting"."daily" with (fillfactor=70) as\n SELECT orders.id\n   FROM analytics.orders',
      'alter materialized view "reporting"."daily" owner to "bi"',
      `comment on materialized view "reporting"."daily" is 'it''s daily'`,
      `comment on column "reporting"."daily"."id" is 'key'`,
      'grant select on "reporting"."daily" to "reader"',
      'grant select on "reporting"."daily" to public',
      'grant select on "reporting"."daily" to "lead" with grant option',
      'CREATE INDEX daily_id ON reporting.daily USING btree (id)',
    ]);
  });

  it('orders views so each comes after the views it reads', () => {
    const a = { ...base, oid: '10', name: 'a', dependsOn: ['99'] }; // reads the model
    const b = { ...base, oid: '11', name: 'b', dependsOn: ['12', '10'] };
    const c = { ...base, oid: '12', name: 'c', dependsOn: ['10'] };
    assert.deepEqual(
      creationOrder([b, c, a]).map((v) => v.name),
      ['a', 'c', 'b'],
    );
  });
});

describe('incremental DML (dbt shapes)', () => {
  const src = 'pg_temp."orders__tsdbt_incr"';

  it('append: insert … select', () => {
    assert.equal(
      insertIntoSql(orders, src, cols, q),
      'insert into "analytics"."orders" ("id", "Amount")\n(\n    select "id", "Amount"\n    from pg_temp."orders__tsdbt_incr"\n)',
    );
  });

  it('delete+insert with a single key', () => {
    const [del, ins] = deleteInsertSql(orders, src, ['id'], cols, q);
    assert.equal(
      del,
      'delete from "analytics"."orders" as DBT_INTERNAL_DEST\nwhere (id) in (\n    select distinct id\n    from pg_temp."orders__tsdbt_incr" as DBT_INTERNAL_SOURCE\n)',
    );
    assert.equal(ins, insertIntoSql(orders, src, cols, q));
  });

  it('delete+insert with a composite key and predicates; without a key it only inserts', () => {
    const [del] = deleteInsertSql(orders, src, ['id', 'day'], cols, q, ["DBT_INTERNAL_DEST.day > '2024-01-01'"]);
    assert.equal(
      del,
      'delete from "analytics"."orders" as DBT_INTERNAL_DEST\nwhere (id, day) in (\n    select distinct id, day\n    from pg_temp."orders__tsdbt_incr" as DBT_INTERNAL_SOURCE\n)\n    and (DBT_INTERNAL_DEST.day > \'2024-01-01\')',
    );
    assert.equal(deleteInsertSql(orders, src, [], cols, q).length, 1);
  });

  it('merge with a key updates all columns and inserts the rest', () => {
    assert.equal(
      mergeSql(orders, src, ['id'], cols, q),
      [
        'merge into "analytics"."orders" as DBT_INTERNAL_DEST',
        'using pg_temp."orders__tsdbt_incr" as DBT_INTERNAL_SOURCE',
        'on (DBT_INTERNAL_SOURCE.id = DBT_INTERNAL_DEST.id)',
        'when matched then update set',
        '    "id" = DBT_INTERNAL_SOURCE."id",',
        '    "Amount" = DBT_INTERNAL_SOURCE."Amount"',
        'when not matched then insert',
        '    ("id", "Amount")',
        'values',
        '    (DBT_INTERNAL_SOURCE."id", DBT_INTERNAL_SOURCE."Amount")',
      ].join('\n'),
    );
  });

  it('merge with a composite key; without a key joins on FALSE (dbt)', () => {
    assert.match(mergeSql(orders, src, ['id', 'day'], cols, q), /^on \(DBT_INTERNAL_SOURCE\.id = DBT_INTERNAL_DEST\.id\) and \(DBT_INTERNAL_SOURCE\.day = DBT_INTERNAL_DEST\.day\)$/m);
    const noKey = mergeSql(orders, src, [], cols, q);
    assert.match(noKey, /^on \(FALSE\)$/m);
    assert.doesNotMatch(noKey, /when matched/);
  });

  it('merge_exclude_columns / merge_update_columns', () => {
    const plan = { destColumns: cols };
    const [ex] = incrementalDml('merge', { unique_key: 'id', merge_exclude_columns: ['amount'] }, orders, src, plan, q);
    assert.match(ex!, /update set\n {4}"id" = DBT_INTERNAL_SOURCE\."id"\nwhen not matched/);
    const [inc] = incrementalDml('merge', { unique_key: 'id', merge_update_columns: ['"Amount"'] }, orders, src, plan, q);
    assert.match(inc!, /update set\n {4}"Amount" = DBT_INTERNAL_SOURCE\."Amount"\nwhen not matched/);
    assert.throws(
      () => incrementalDml('merge', { unique_key: 'id', merge_update_columns: ['a'], merge_exclude_columns: ['b'] }, orders, src, plan, q),
      (e: unknown) => e instanceof TsdbtError && e.code === 'invalid-merge-columns',
    );
  });

  it('unique_key normalisation', () => {
    assert.deepEqual(uniqueKeyList('id'), ['id']);
    assert.deepEqual(uniqueKeyList(['a', ' b ']), ['a', 'b']);
    assert.deepEqual(uniqueKeyList(null), []);
  });

  it('default strategy follows dbt-postgres: delete+insert with a key, append without', () => {
    assert.equal(resolveIncrementalStrategy({}), 'append');
    assert.equal(resolveIncrementalStrategy({ unique_key: 'id' }), 'delete+insert');
    assert.equal(resolveIncrementalStrategy({ unique_key: ['a', 'b'] }), 'delete+insert');
    assert.equal(resolveIncrementalStrategy({ unique_key: 'id', incremental_strategy: 'merge' }), 'merge');
    assert.equal(resolveIncrementalStrategy({ incremental_strategy: 'append', unique_key: 'id' }), 'append');
    assert.throws(
      () => resolveIncrementalStrategy({ incremental_strategy: 'microbatch' }),
      (e: unknown) => e instanceof TsdbtError && e.code === 'invalid-incremental-strategy' && /microbatch/.test(e.message),
    );
  });
});

describe('schema change statements', () => {
  it('add / drop / retype in dbt order', () => {
    const plan = planSchemaChange(
      'sync_all_columns',
      [
        { name: 'id', dataType: 'bigint' },
        { name: 'name', dataType: 'character varying(20)' },
        { name: 'new col', dataType: 'text' },
      ],
      [
        { name: 'id', dataType: 'integer' },
        { name: 'name', dataType: 'character varying(10)' },
        { name: 'old', dataType: 'date' },
      ],
    );
    assert.deepEqual(schemaChangeSql(orders, plan, q), [
      'alter table "analytics"."orders" alter column "name" type character varying(20) using "name"::character varying(20)',
      'alter table "analytics"."orders"\n    add column "new col" text',
      'alter table "analytics"."orders"\n    drop column "old"',
      'alter table "analytics"."orders" alter column "id" type bigint using "id"::bigint',
    ]);
    assert.equal(addColumnsSql(orders, cols, q), 'alter table "analytics"."orders"\n    add column "id" integer,\n    add column "Amount" numeric');
    assert.equal(dropColumnsSql(orders, ['a', 'b'], q), 'alter table "analytics"."orders"\n    drop column "a",\n    drop column "b"');
    assert.equal(alterColumnTypeSql(orders, 'x', 'text', q), 'alter table "analytics"."orders" alter column "x" type text using "x"::text');
  });

  it('grants config: one grant per privilege, role names folded as dbt-postgres writes them, then quoted', () => {
    assert.deepEqual(grantsSql(orders, { select: ['reporter', 'BI'], insert: [] }, q), ['grant select on "analytics"."orders" to "reporter", "bi"']);
    assert.deepEqual(grantsSql(orders, { '+SELECT': 'public', 'all privileges': ['"Report Readers"'] }, q), [
      'grant select on "analytics"."orders" to public',
      'grant all on "analytics"."orders" to "Report Readers"',
    ]);
    assert.deepEqual(grantsSql(orders, { select: [''] }, q), []);
    assert.deepEqual(grantsSql(orders, undefined, q), []);
  });

  it('grants config: anything that is not a role name or a privilege is refused, not pasted into SQL', () => {
    assert.throws(() => grantsSql(orders, { select: ['x; drop table y'] }, q), /\[invalid-grantee\]|not a role name/);
    assert.throws(() => grantsSql(orders, { select: ['a"b'] }, q), /not a role name/);
    assert.throws(() => grantsSql(orders, { 'select on all tables': ['x'] }, q), /not a privilege/);
  });
});

describe('dbt-postgres table options', () => {
  it('unlogged and sql_header', () => {
    assert.equal(createTableAsSql(orders, 'select 1', q, { unlogged: true }), 'create unlogged table "analytics"."orders"\nas (\nselect 1\n)');
    assert.equal(withSqlHeader('select 1', "set work_mem = '64MB';"), "set work_mem = '64MB';\nselect 1");
    assert.equal(withSqlHeader('select 1', undefined), 'select 1');
  });

  it('indexes: parsed, named like dbt (md5 with a timestamp), created with columns as written', () => {
    const { indexes, problem } = parseIndexes([{ columns: ['id'], unique: true }, { columns: ['day', 'id'], type: 'btree' }]);
    assert.equal(problem, undefined);
    assert.deepEqual(indexes, [
      { columns: ['id'], unique: true, type: null },
      { columns: ['day', 'id'], unique: false, type: 'btree' },
    ]);
    const name = indexName(indexes[0]!, '"analytics"."orders"', '2024-05-01T10:00:00.000');
    assert.match(name, /^[0-9a-f]{32}$/);
    assert.notEqual(name, indexName(indexes[0]!, '"analytics"."orders"', '2024-05-01T10:00:01.000'));
    assert.equal(createIndexSql(orders, indexes[0]!, 'abc', q), 'create unique index if not exists "abc"\non "analytics"."orders" (id)');
    assert.equal(createIndexSql(orders, indexes[1]!, 'def', q), 'create index if not exists "def"\non "analytics"."orders" using btree (day, id)');
    assert.match(parseIndexes([{ columns: [] }]).problem!, /columns/);
    assert.match(parseIndexes([{ columns: ['a'], type: 'btree; drop table x' }]).problem!, /invalid type/);
    assert.match(parseIndexes('id').problem!, /list/);
  });

  it('an unpopulated materialized view is recreated with no data', () => {
    const v: DependentView = {
      oid: '1', schema: 's', name: 'mv', kind: 'materialized_view', definition: ' SELECT 1;', owner: 'me', options: [],
      comment: null, columnComments: [], grants: [], extras: [], dependsOn: [], populated: false,
    };
    assert.deepEqual(recreateDependentSql(v, 'me', q), ['create materialized view "s"."mv" as\n SELECT 1\nwith no data']);
  });
});
