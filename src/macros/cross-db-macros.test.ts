/**
 * dbt's cross-database macros (package `dbt`, src/macros/dbt/*.sql) on Postgres.
 *
 * Each case is one model of a real project: `tsdbt parse` + compile render it, the
 * compiled SQL is compared with what dbt-postgres renders (expectations written by
 * hand from dbt-adapters' global_project/macros/utils/*.sql and dbt-postgres's
 * postgres__ overrides; whitespace is not significant), and then the SQL runs on
 * PostgreSQL and on PGlite and its value is checked.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { compileNodes } from '../compile/compile.ts';
import { loadProjectConfig } from '../config/index.ts';
import type { TargetConfig } from '../config/types.ts';
import { writeProject } from '../config/write-project.ts';
import { TsdbtError } from '../errors.ts';
import { parseProject, type ParseResult } from '../parse/parse-project.ts';
import { testTargets, type TestDb } from '../adapters/testing.ts';

/** Whitespace-insensitive SQL: runs of whitespace become one space, none just inside parentheses. */
export function normalizeSql(sql: string): string {
  return sql
    .replace(/\s+/g, ' ')
    .replace(/\(\s+/g, '(')
    .replace(/\s+\)/g, ')')
    .trim();
}

interface Case {
  /** Model name. */
  readonly name: string;
  /** The model's text; an expression (not a query) is wrapped as `select … as v`. */
  readonly model: string;
  /** The compiled model as dbt-postgres renders it (whitespace-insensitive). */
  readonly sql: string;
  /** Expected rows of `select <probe> from (<compiled>) q`, as text. */
  readonly rows: readonly (string | null)[];
  /** SQL over the model's column `v` (default `v::text`). */
  readonly probe?: string;
}

const d = (s: string) => `'${s}'::date`;
const ts = (s: string) => `'${s}'::timestamp`;
// dbt-postgres's datediff pieces, written out from postgres__datediff.
const ddYear = (a: string, b: string) => `(date_part('year', (${b})::date) - date_part('year', (${a})::date))`;
const ddDay = (a: string, b: string) => `((${b})::date - (${a})::date)`;
const ddHour = (a: string, b: string) => `(${ddDay(a, b)} * 24 + date_part('hour', (${b})::timestamp) - date_part('hour', (${a})::timestamp))`;
const ddMinute = (a: string, b: string) => `(${ddHour(a, b)} * 60 + date_part('minute', (${b})::timestamp) - date_part('minute', (${a})::timestamp))`;

const CASES: readonly Case[] = [
  // dates
  { name: 'date_trunc', model: `{{ dbt.date_trunc('month', "${ts('2024-02-17 10:30')}") }}`, sql: `date_trunc('month', ${ts('2024-02-17 10:30')})`, rows: ['2024-02-01 00:00:00'] },
  { name: 'dateadd_day', model: `{{ dbt.dateadd('day', 3, "${d('2024-02-27')}") }}`, sql: `${d('2024-02-27')} + ((interval '1 day') * (3))`, rows: ['2024-03-01 00:00:00'] },
  { name: 'dateadd_month_back', model: `{{ dateadd('month', -1, "${d('2024-03-31')}") }}`, sql: `${d('2024-03-31')} + ((interval '1 month') * (-1))`, rows: ['2024-02-29 00:00:00'] },
  {
    name: 'datediff_month',
    model: `{{ dbt.datediff("${d('2024-01-01')}", "${d('2024-03-01')}", 'month') }}`,
    sql: `(${ddYear(d('2024-01-01'), d('2024-03-01'))} * 12 + date_part('month', (${d('2024-03-01')})::date) - date_part('month', (${d('2024-01-01')})::date))`,
    rows: ['2'],
  },
  {
    name: 'datediff_quarter',
    model: `{{ dbt.datediff("${d('2024-01-15')}", "${d('2024-07-01')}", 'quarter') }}`,
    sql: `(${ddYear(d('2024-01-15'), d('2024-07-01'))} * 4 + date_part('quarter', (${d('2024-07-01')})::date) - date_part('quarter', (${d('2024-01-15')})::date))`,
    rows: ['2'],
  },
  { name: 'datediff_year', model: `{{ dbt.datediff("${d('2023-12-31')}", "${d('2024-01-01')}", 'year') }}`, sql: ddYear(d('2023-12-31'), d('2024-01-01')), rows: ['1'] },
  { name: 'datediff_day', model: `{{ datediff("${d('2024-01-01')}", "${d('2024-03-01')}", 'day') }}`, sql: ddDay(d('2024-01-01'), d('2024-03-01')), rows: ['60'] },
  {
    name: 'datediff_week',
    model: `{{ dbt.datediff("${d('2024-01-01')}", "${d('2024-01-17')}", 'week') }}`,
    sql:
      `(${ddDay(d('2024-01-01'), d('2024-01-17'))} / 7 + case when date_part('dow', (${d('2024-01-01')})::timestamp) <= date_part('dow', (${d('2024-01-17')})::timestamp) then ` +
      `case when ${d('2024-01-01')} <= ${d('2024-01-17')} then 0 else -1 end else case when ${d('2024-01-01')} <= ${d('2024-01-17')} then 1 else 0 end end)`,
    rows: ['2'],
  },
  {
    name: 'datediff_hour',
    model: `{{ dbt.datediff("${ts('2024-01-01 10:00')}", "${ts('2024-01-02 12:30')}", 'hour') }}`,
    sql: ddHour(ts('2024-01-01 10:00'), ts('2024-01-02 12:30')),
    rows: ['26'],
  },
  {
    name: 'datediff_second',
    model: `{{ dbt.datediff("${ts('2024-01-01 00:00:10')}", "${ts('2024-01-01 00:01:05')}", 'second') }}`,
    sql: `(${ddMinute(ts('2024-01-01 00:00:10'), ts('2024-01-01 00:01:05'))} * 60 + floor(date_part('second', (${ts('2024-01-01 00:01:05')})::timestamp)) - floor(date_part('second', (${ts('2024-01-01 00:00:10')})::timestamp)))`,
    rows: ['55'],
  },
  {
    name: 'last_day_month',
    model: `{{ dbt.last_day("${d('2024-02-10')}", 'month') }}`,
    sql: `cast(date_trunc('month', ${d('2024-02-10')}) + ((interval '1 month') * (1)) + ((interval '1 day') * (-1)) as date)`,
    rows: ['2024-02-29'],
  },
  {
    name: 'last_day_quarter',
    model: `{{ dbt.last_day("${d('2024-05-10')}", 'quarter') }}`,
    sql: `cast(date_trunc('quarter', ${d('2024-05-10')}) + ((interval '1 month') * (3)) + ((interval '1 day') * (-1)) as date)`,
    rows: ['2024-06-30'],
  },
  { name: 'date', model: '{{ dbt.date(2024, 2, 9) }}', sql: `to_date('2024-02-09', 'YYYY-MM-DD')`, rows: ['2024-02-09'] },
  // timestamps
  { name: 'current_timestamp', model: '{{ dbt.current_timestamp() }}', sql: 'now()', rows: ['timestamp with time zone'], probe: 'pg_typeof(v)::text' },
  { name: 'current_timestamp_backcompat', model: '{{ dbt.current_timestamp_backcompat() }}', sql: 'current_timestamp::timestamp', rows: ['timestamp without time zone'], probe: 'pg_typeof(v)::text' },
  {
    name: 'current_timestamp_in_utc_backcompat',
    model: '{{ dbt.current_timestamp_in_utc_backcompat() }}',
    sql: `(current_timestamp at time zone 'utc')::timestamp`,
    rows: ['true'],
    probe: `(abs(extract(epoch from v - (now() at time zone 'utc'))) < 60)::text`,
  },
  // types
  { name: 'type_string', model: '{{ dbt.cast(42, dbt.type_string()) }}', sql: 'cast(42 as TEXT)', rows: ['text'], probe: 'pg_typeof(v)::text' },
  { name: 'type_int', model: `{{ dbt.cast("'7'", dbt.type_int()) }}`, sql: `cast('7' as integer)`, rows: ['integer'], probe: 'pg_typeof(v)::text' },
  { name: 'type_bigint', model: `{{ dbt.cast("'7'", type_bigint()) }}`, sql: `cast('7' as bigint)`, rows: ['bigint'], probe: 'pg_typeof(v)::text' },
  { name: 'type_float', model: `{{ dbt.cast("'1.5'", dbt.type_float()) }}`, sql: `cast('1.5' as float)`, rows: ['double precision'], probe: 'pg_typeof(v)::text' },
  { name: 'type_numeric', model: `{{ dbt.cast("'1.5'", dbt.type_numeric()) }}`, sql: `cast('1.5' as numeric(28,6))`, rows: ['1.500000'] },
  { name: 'type_timestamp', model: `{{ dbt.cast("'2024-01-01'", dbt.type_timestamp()) }}`, sql: `cast('2024-01-01' as timestamp)`, rows: ['timestamp without time zone'], probe: 'pg_typeof(v)::text' },
  { name: 'type_boolean', model: `{{ dbt.cast("'t'", dbt.type_boolean()) }}`, sql: `cast('t' as boolean)`, rows: ['true'] },
  { name: 'safe_cast', model: `{{ dbt.safe_cast("'42'", dbt.type_int()) }}`, sql: `cast('42' as integer)`, rows: ['42'] },
  { name: 'cast_bool_to_text', model: `{{ dbt.cast_bool_to_text('1 < 2') }}`, sql: 'cast(1 < 2 as TEXT)', rows: ['true'] },
  // strings
  { name: 'concat', model: `{{ dbt.concat(["'a'", "'b'", "'c'"]) }}`, sql: `'a' || 'b' || 'c'`, rows: ['abc'] },
  { name: 'hash', model: `{{ dbt.hash("'abc'") }}`, sql: `md5(cast('abc' as TEXT))`, rows: ['900150983cd24fb0d6963f7d28e17f72'] },
  { name: 'split_part', model: `{{ dbt.split_part("'a,b,c'", "','", 2) }}`, sql: `split_part('a,b,c', ',', 2)`, rows: ['b'] },
  {
    name: 'split_part_negative',
    model: `{{ dbt.split_part("'a,b,c'", "','", -1) }}`,
    sql: `split_part('a,b,c', ',', length('a,b,c') - length(replace('a,b,c', ',', '')) + 2 + -1)`,
    rows: ['c'],
  },
  { name: 'string_literal', model: `{{ dbt.string_literal('hello') }}`, sql: `'hello'`, rows: ['hello'] },
  { name: 'escape_single_quotes', model: `'{{ dbt.escape_single_quotes("they're") }}'`, sql: `'they''re'`, rows: ["they're"] },
  { name: 'right', model: `{{ dbt.right("'abcdef'", 2) }}`, sql: `right('abcdef', 2)`, rows: ['ef'] },
  { name: 'length', model: `{{ dbt.length("'abc'") }}`, sql: `length('abc')`, rows: ['3'] },
  { name: 'position', model: `{{ dbt.position("'c'", "'abc'") }}`, sql: `position('c' in 'abc')`, rows: ['3'] },
  { name: 'replace', model: `{{ dbt.replace("'a-b'", "'-'", "'+'") }}`, sql: `replace('a-b', '-', '+')`, rows: ['a+b'] },
  // aggregates
  {
    name: 'listagg',
    model: `select {{ dbt.listagg('x', "', '", 'order by x desc') }} as v from (values ('a'), ('b'), ('c')) as t(x)`,
    sql: `select string_agg(x, ', ' order by x desc) as v from (values ('a'), ('b'), ('c')) as t(x)`,
    rows: ['c, b, a'],
  },
  {
    name: 'listagg_limit',
    model: `select {{ dbt.listagg('x', "', '", 'order by x desc', 2) }} as v from (values ('a'), ('b'), ('c')) as t(x)`,
    sql: `select array_to_string((array_agg(x order by x desc))[1:2], ', ') as v from (values ('a'), ('b'), ('c')) as t(x)`,
    rows: ['c, b'],
  },
  { name: 'listagg_default', model: `select {{ dbt.listagg('x') }} as v from (values ('a')) as t(x)`, sql: `select string_agg(x, ',') as v from (values ('a')) as t(x)`, rows: ['a'] },
  { name: 'bool_or', model: `select {{ dbt.bool_or('x') }} as v from (values (false), (true)) as t(x)`, sql: `select bool_or(x) as v from (values (false), (true)) as t(x)`, rows: ['true'] },
  { name: 'any_value', model: `select {{ dbt.any_value('x') }} as v from (values ('b'), ('a')) as t(x)`, sql: `select min(x) as v from (values ('b'), ('a')) as t(x)`, rows: ['a'] },
  // arrays
  { name: 'array_construct', model: `{{ dbt.array_construct(['1', '2']) }}`, sql: 'array[ 1 , 2 ]', rows: ['{1,2}'] },
  { name: 'array_construct_empty', model: `{{ dbt.array_construct([], 'text') }}`, sql: 'array[]::text[]', rows: ['{}'] },
  { name: 'array_append', model: `{{ dbt.array_append(dbt.array_construct(['1', '2']), 3) }}`, sql: 'array_append(array[ 1 , 2 ], 3)', rows: ['{1,2,3}'] },
  { name: 'array_concat', model: `{{ dbt.array_concat(dbt.array_construct(['1']), dbt.array_construct(['2', '3'])) }}`, sql: 'array_cat(array[ 1 ], array[ 2 , 3 ])', rows: ['{1,2,3}'] },
  // set operators
  { name: 'except', model: 'select 1 as v union all select 2{{ dbt.except() }}select 2', sql: 'select 1 as v union all select 2 except select 2', rows: ['1'] },
  { name: 'intersect', model: '(select 1 as v union all select 2) {{ dbt.intersect() }} select 2', sql: '(select 1 as v union all select 2) intersect select 2', rows: ['2'] },
  // series
  { name: 'get_powers_of_two', model: 'select {{ dbt.get_powers_of_two(5) }} as v, {{ get_powers_of_two(1) }} as w, {{ dbt.get_powers_of_two(1024) }} as x', sql: 'select 3 as v, 1 as w, 10 as x', rows: ['3'] },
  {
    name: 'generate_series',
    model: '{{ dbt.generate_series(5) }}',
    sql:
      'with p as (select 0 as generated_number union all select 1), unioned as (select p0.generated_number * power(2, 0) + p1.generated_number * power(2, 1) + p2.generated_number * power(2, 2) + 1 as generated_number ' +
      'from p as p0 cross join p as p1 cross join p as p2) select * from unioned where generated_number <= 5 order by generated_number',
    rows: ['1', '2', '3', '4', '5'],
    probe: 'generated_number::text',
  },
];

const isQuery = (c: Case) => /^\s*(select|with|\(|\{\{ dbt\.generate_series)/i.test(c.model);
const modelText = (c: Case) => (isQuery(c) ? c.model : `select ${c.model} as v`);
const expectedSql = (c: Case) => (isQuery(c) ? c.sql : `select ${c.sql} as v`);

const target: TargetConfig = { name: 'dev', profileName: 'macros', type: 'postgres', schema: 'analytics', threads: 1, dbname: 'test', extra: {}, source: 'test' };

/** Parses and compiles a project written from `files`; returns model name → compiled SQL. */
function build(files: Record<string, string>): { parsed: ParseResult; compiled: Map<string, string>; root: string } {
  const root = writeProject({ 'dbt_project.yml': 'name: macros\nprofile: macros\nconfig-version: 2\n', ...files });
  const project = loadProjectConfig(root, { vars: {} });
  const parsed = parseProject({ project, target, cliVars: {}, invocationId: 'i', env: {}, partialParse: false });
  const ids = Object.keys(parsed.manifest.nodes);
  const out = compileNodes({ project, parsed, target, cliVars: {}, invocationId: 'i', fullRefresh: false, relations: new Map() }, ids);
  const compiled = new Map<string, string>();
  for (const [id, node] of out) compiled.set(parsed.manifest.nodes[id].name, node.compiledCode);
  return { parsed, compiled, root };
}

let compiled: Map<string, string>;
let projectRoot: string;
before(() => {
  const files: Record<string, string> = {};
  for (const c of CASES) files[`models/${c.name}.sql`] = modelText(c) + '\n';
  ({ compiled, root: projectRoot } = build(files));
});
after(() => projectRoot && rmSync(projectRoot, { recursive: true, force: true }));

describe('dbt cross-database macros compile as dbt-postgres renders them', () => {
  for (const c of CASES) {
    it(c.name, () => {
      assert.equal(normalizeSql(compiled.get(c.name) ?? '<not compiled>'), normalizeSql(expectedSql(c)));
    });
  }
});

describe('dbt cross-database macros: errors as dbt raises them', () => {
  it("datediff with an unknown datepart fails naming it (dbt-postgres: Unsupported datepart for macro datediff in postgres: 'fortnight')", () => {
    assert.throws(
      () => build({ 'models/m.sql': `select {{ dbt.datediff("'2024-01-01'::date", "'2024-02-01'::date", 'fortnight') }} as v\n` }),
      (e: unknown) => e instanceof TsdbtError && /Unsupported datepart for macro datediff in postgres: 'fortnight'/.test(e.message) && e.file === 'tsdbt/macros/dbt/dates.sql',
    );
  });
  it('get_powers_of_two(0) fails: upper bound must be positive', () => {
    assert.throws(() => build({ 'models/m.sql': 'select {{ dbt.get_powers_of_two(0) }} as v\n' }), /upper bound must be positive/);
  });
  it('current_timestamp called through default__ is not implemented (dbt: only adapters define it)', () => {
    assert.throws(() => build({ 'models/m.sql': 'select {{ dbt.default__current_timestamp() }} as v\n' }), /current_timestamp macro not implemented for adapter postgres/);
  });
  it('date_spine parses (1 interval during parsing, as dbt); compiling it needs the database (run_query), so without one it says so', () => {
    // With a connection it compiles at run time: tests/integration/live-compile.test.ts builds a date_spine on both engines.
    assert.throws(
      () => build({ 'models/spine.sql': `{{ dbt.date_spine('day', "'2024-01-01'::date", "'2024-01-05'::date") }}\n` }),
      (e: unknown) => e instanceof TsdbtError && e.code === 'needs-database' && /model spine asks the database/.test(e.message),
    );
  });
});

for (const tt of testTargets()) {
  describe(`dbt cross-database macros: values on ${tt.name}`, { skip: await tt.skipReason() }, () => {
    let db: TestDb;
    before(async () => {
      db = await tt.make();
    });
    after(async () => {
      await db?.cleanup();
    });
    for (const c of CASES) {
      it(c.name, async () => {
        const sql = `select ${c.probe ?? 'v::text'} as r from (\n${compiled.get(c.name)}\n) as q`;
        const res = await db.adapter.query<{ r: string | null }>(sql);
        assert.deepEqual(
          res.rows.map((r) => r.r),
          c.rows,
          sql,
        );
      });
    }
  });
}
