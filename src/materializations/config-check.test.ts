/**
 * The SQL-bound config values (pure): what is accepted as dbt writes it, what is
 * refused, and the SQL the accepted ones become. The same attacks run against
 * a real server in tests/secrets/config-injection.test.ts.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sqlFragmentProblem, sqlTypeProblem, splitTopLevelCommas } from '../adapters/sql-fragment.ts';
import { quoteIdentifier, quoteLiteral } from '../adapters/quote.ts';
import { CompileErrors, TsdbtError } from '../errors.ts';
import { checkNodeConfigs, configSqlErrors } from './config-check.ts';
import { createIndexSql, deleteInsertSql, mergeSql, uniqueKeyList } from './sql.ts';

const q = { quoteIdentifier, quoteLiteral };
const owner = { label: "model 'm'", file: 'models/m.sql' };
const codes = (config: Record<string, unknown>) => configSqlErrors(config, owner).map((e) => e.code);

describe('sqlFragmentProblem', () => {
  it('accepts names and expressions dbt users write', () => {
    for (const ok of ['id', '"Order ID"', 'coalesce(id, 0)', "coalesce(name, '')", "md5(a || '-' || b)", 'lower(email)', 'id desc nulls last', "DBT_INTERNAL_DEST.day > current_date - interval '7 days'", '"a;b" + 1', "'it''s; -- fine'"]) {
      assert.equal(sqlFragmentProblem(ok), undefined, ok);
    }
  });
  it('refuses what could leave its slot', () => {
    const bad: [string, RegExp][] = [
      ['id); drop table public.victim; --', /closes a parenthesis/],
      ['id; drop table victim', /';'/],
      ['id -- rest', /--/],
      ['id /* x */', /comment/],
      ['$$x$$', /\$/],
      ["E'\\''", /backslash/],
      ["'open", /unterminated/],
      ['"open', /unterminated/],
      ['(id', /never closed/],
      ['id\u0000', /control/],
      ['  ', /empty/],
    ];
    for (const [text, re] of bad) assert.match(sqlFragmentProblem(text) ?? '', re, text);
  });
  it('splits on top-level commas only', () => {
    assert.deepEqual(splitTopLevelCommas("a, coalesce(b, ','), \"c,d\""), ['a', "coalesce(b, ',')", '"c,d"']);
  });
});

describe('sqlTypeProblem (seed column_types)', () => {
  it('accepts type names', () => {
    for (const t of ['text', 'integer', 'numeric(10, 2)', 'varchar(20)', 'character varying(5)', 'double precision', 'timestamp(3) with time zone', 'timestamp without time zone', 'interval day to second', 'int[]', 'text[3][]', 'public.my_enum', '"MyType"']) {
      assert.equal(sqlTypeProblem(t), undefined, t);
    }
  });
  it('refuses anything that is not only a type', () => {
    for (const t of ['integer); drop table victim; --', 'int references victim', 'int default 1', 'int, evil text', "text check (x <> '')", 'int generated always as (1) stored', '']) {
      assert.ok(sqlTypeProblem(t), t);
    }
  });
});

describe('configSqlErrors', () => {
  it('a safe config has no errors', () => {
    assert.deepEqual(
      codes({
        materialized: 'incremental',
        unique_key: ['id', 'day'],
        incremental_predicates: ['DBT_INTERNAL_DEST.day > current_date - 7'],
        indexes: [{ columns: ['id'], unique: true, type: 'btree' }],
        grants: { select: ['reporter'] },
        column_types: { amount: 'numeric(10, 2)' },
      }),
      [],
    );
  });
  it('each hostile value is refused with the file and the key', () => {
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ indexes: [{ columns: ['id); drop table public.victim; --'] }] }, 'invalid-index-config', /config 'indexes' of model 'm'.*indexes\[0\]\.columns\[0\]/],
      [{ indexes: [{ columns: ['id'], type: 'btree (id); drop table victim; --' }] }, 'invalid-index-config', /invalid type/],
      [{ indexes: [{ columns: ['id'], unique: 'true; drop table victim' }] }, 'invalid-index-config', /unique must be true or false/],
      [{ materialized: 'incremental', unique_key: 'id) in (select 1); drop table victim; --' }, 'invalid-unique-key', /config 'unique_key'/],
      [{ materialized: 'incremental', unique_key: ['id', 'x; drop table victim'] }, 'invalid-unique-key', /';'/],
      [{ materialized: 'incremental', incremental_strategy: 'merge', unique_key: 'coalesce(id, 0)' }, 'invalid-unique-key', /merge strategy needs a column name/],
      [{ materialized: 'incremental', incremental_predicates: ['true); drop table victim; --'] }, 'invalid-incremental-predicate', /incremental_predicates/],
      [{ materialized: 'incremental', incremental_strategy: 'merge', unique_key: 'id', merge_update_columns: ['x = 1; drop table victim; --'] }, 'invalid-merge-update-columns', /merge_update_columns/],
      [{ materialized: 'incremental', incremental_strategy: 'append; drop table victim' }, 'invalid-incremental-strategy', /not valid/],
      [{ grants: { 'select on victim to public; drop table victim; --': ['x'] } }, 'invalid-grant-privilege', /grants/],
      [{ grants: { select: ['x; drop table victim'] } }, 'invalid-grantee', /grants/],
      [{ column_types: { id: 'integer); drop table victim; --' } }, 'invalid-column-type', /column_types.*"id"/],
      // dbt's SeedConfig.column_types is a dict: a bare type name is a config error, not silently ignored.
      [{ column_types: 'bigint' }, 'invalid-column-type', /must be a mapping of column name to type, got "bigint"/],
      [{ column_types: ['bigint'] }, 'invalid-column-type', /must be a mapping/],
    ];
    for (const [config, code, re] of cases) {
      const errors = configSqlErrors(config, owner);
      assert.equal(errors.length, 1, JSON.stringify(config));
      assert.equal(errors[0].code, code);
      assert.equal(errors[0].kind, 'project');
      assert.equal(errors[0].file, 'models/m.sql');
      assert.match(errors[0].message, re);
      assert.ok(errors[0].hint, code);
    }
  });
  it('checkNodeConfigs throws every problem of the selected nodes (tests are SQL by design and skipped)', () => {
    const nodes = {
      a: { name: 'a', resource_type: 'model', original_file_path: 'models/a.sql', config: { indexes: [{ columns: ['x;'] }] } },
      b: { name: 'b', resource_type: 'seed', original_file_path: 'seeds/b.csv', config: { column_types: { x: 'int; drop' } } },
      t: { name: 't', resource_type: 'test', original_file_path: 'tests/t.sql', config: { where: '1=1; x' } },
      ok: { name: 'ok', resource_type: 'model', original_file_path: 'models/ok.sql', config: {} },
    };
    assert.doesNotThrow(() => checkNodeConfigs(nodes, ['ok', 't']));
    assert.throws(() => checkNodeConfigs(nodes, ['a']), (e: unknown) => e instanceof TsdbtError && e.code === 'invalid-index-config' && e.file === 'models/a.sql');
    assert.throws(
      () => checkNodeConfigs(nodes, ['a', 'b', 'ok']),
      (e: unknown) => e instanceof CompileErrors && e.errors.map((x) => x.file).join() === 'models/a.sql,seeds/b.csv' && /nothing was run/.test(e.format()),
    );
  });
});

describe('the SQL accepted values become', () => {
  const rel = { schema: 's', identifier: 't' };
  const cols = [{ name: 'id', dataType: 'integer' }];
  it('expression keys are parenthesised, names stay as dbt writes them, string keys split on commas', () => {
    assert.deepEqual(uniqueKeyList('id, coalesce(day, 0)'), ['id', 'coalesce(day, 0)']);
    const [del] = deleteInsertSql(rel, 'src', ['id', 'coalesce(day, 0)'], cols, q, ['x > 1 or y']);
    assert.match(del, /where \(id, \(coalesce\(day, 0\)\)\) in \(\n {4}select distinct id, \(coalesce\(day, 0\)\)\n/);
    assert.match(del, /\n {4}and \(x > 1 or y\)$/);
  });
  it('the builders refuse an unchecked hostile value themselves', () => {
    assert.throws(() => deleteInsertSql(rel, 'src', ['id); drop table v; --'], cols, q), /invalid-unique-key|not a column name/);
    assert.throws(() => mergeSql(rel, 'src', ['a || b'], cols, q), /merge strategy/);
    assert.throws(() => mergeSql(rel, 'src', ['id'], cols, q, { updateColumns: ['x = 1, y'] }), /not a column name/);
    assert.throws(() => createIndexSql(rel, { columns: ['id); drop table v; --'], unique: false, type: null }, 'n', q), /invalid-index-config|not a column name/);
  });
});
