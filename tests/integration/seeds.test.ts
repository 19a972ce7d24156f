/**
 * Issue 2, seeds through the CLI on both engines: inferred types, column_types,
 * a value that does not fit a declared type (file and line, old table intact),
 * CRLF line endings, upper-case headers (kept and quoted, as dbt-postgres),
 * quote_columns: false, a custom delimiter, and a seed whose columns change.
 */
import { it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { describeEngines, Project, projectYml, type Files } from './harness.ts';

const FILES: Files = {
  'dbt_project.yml': projectYml(
    'seedy',
    `seeds:
  seedy:
    +schema: raw
    typed:
      +column_types:
        code: varchar(3)
        amount: numeric(10,2)
    folded:
      +quote_columns: false
    semi:
      +delimiter: ";"
`,
  ),
  'seeds/inferred.csv': 'i,big,num,flag,d,ts,txt\n1,9000000000,1.5,true,2024-01-31,2024-01-31 10:00:00,a\n2,1,2,false,2024-02-01,2024-02-01 00:00:00,\n',
  'seeds/typed.csv': 'code,amount\nabc,1.25\nxy,10\n',
  'seeds/crlf.csv': 'id,name\r\n1,Ann\r\n2,Bob\r\n',
  'seeds/upper.csv': 'UserId,Email Address\n1,a@x\n',
  'seeds/folded.csv': 'UserId,Email\n1,a@x\n',
  'seeds/semi.csv': 'a;b\n1;x,y\n',
  'models/reads_upper.sql': 'select "UserId" as user_id from {{ ref(\'upper\') }}\n',
};

await describeEngines('seeds', (engine) => {
  let p: Project;
  let raw: string;
  const columns = async (table: string) =>
    (
      await p.rows<{ column_name: string; data_type: string }>(
        `select column_name, data_type from information_schema.columns where table_schema = '${raw}' and table_name = '${table}' order by ordinal_position`,
      )
    ).map((c) => `${c.column_name} ${c.data_type}`);

  before(async () => {
    p = await Project.create(engine, FILES);
    raw = `${p.schema}_raw`;
    const r = await p.cli('build');
    assert.equal(r.code, 0, r.output);
  });
  after(async () => {
    await p?.cleanup();
  });

  it('infers integer, bigint, numeric, boolean, date, timestamp and text', async () => {
    assert.deepEqual(await columns('inferred'), [
      'i integer',
      'big bigint',
      'num numeric',
      'flag boolean',
      'd date',
      'ts timestamp without time zone',
      'txt text',
    ]);
    assert.deepEqual(await p.rows(`select i, big, flag, txt from ${raw}.inferred order by i`), [
      { i: 1, big: '9000000000', flag: true, txt: 'a' },
      { i: 2, big: '1', flag: false, txt: null },
    ]);
  });

  it('column_types override inference', async () => {
    assert.deepEqual(await columns('typed'), ['code character varying', 'amount numeric']);
    const r = await p.rows<{ t: string }>(`select format_type(atttypid, atttypmod) as t from pg_attribute where attrelid = '${raw}.typed'::regclass and attnum > 0 order by attnum`);
    assert.deepEqual(r.map((x) => x.t), ['character varying(3)', 'numeric(10,2)']);
  });

  it('CRLF line endings load cleanly (no \\r in values)', async () => {
    assert.deepEqual(await p.rows(`select id, name from ${raw}.crlf order by id`), [
      { id: 1, name: 'Ann' },
      { id: 2, name: 'Bob' },
    ]);
  });

  it('upper-case headers are kept and quoted; quote_columns: false folds them', async () => {
    assert.deepEqual(await columns('upper'), ['UserId integer', 'Email Address text']);
    assert.deepEqual(await columns('folded'), ['userid integer', 'email text']);
    assert.deepEqual(await p.rows(`select user_id from ${p.schema}.reads_upper`), [{ user_id: 1 }]);
  });

  it('a custom delimiter', async () => {
    assert.deepEqual(await p.rows(`select a, b from ${raw}.semi`), [{ a: 1, b: 'x,y' }]);
  });

  it('a value that does not fit a declared type fails with file and line; the old table stays', async () => {
    const before = await p.rows(`select * from ${raw}.typed order by code`);
    p.write({ 'seeds/typed.csv': 'code,amount\nabc,1.25\nxy,10\ntoolong,3\n' });
    const r = await p.cli('seed', ['--select', 'typed']);
    assert.equal(r.code, 1, r.output);
    assert.match(r.output, /seeds\/typed\.csv/);
    assert.match(r.output, /line 4|:4\b/);
    assert.deepEqual(await p.rows(`select * from ${raw}.typed order by code`), before);
    p.write({ 'seeds/typed.csv': FILES['seeds/typed.csv'] });
  });

  it('a seed whose columns change is reloaded with the new columns', async () => {
    p.write({ 'seeds/crlf.csv': 'id,name,age\n1,Ann,30\n' });
    const r = await p.cli('seed', ['--select', 'crlf']);
    assert.equal(r.code, 0, r.output);
    assert.deepEqual(await p.rows(`select id, name, age from ${raw}.crlf`), [{ id: 1, name: 'Ann', age: 30 }]);
  });
});
