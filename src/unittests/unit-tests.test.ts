/**
 * Unit tests of the unit test machinery without a database: the SQL dbt's
 * get_fixture_sql / get_expected_sql / get_unit_test_sql macros would build,
 * the unordered comparison and its diff, and the parse rules of
 * UnitTestParser / process_models_for_unit_test. End to end on both engines:
 * tests/integration/unit-tests.test.ts.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { loadProjectConfig } from '../config/index.ts';
import type { TargetConfig } from '../config/types.ts';
import { writeProject, thrown } from '../config/write-project.ts';
import { parseProject } from '../parse/parse-project.ts';
import { CompileErrors } from '../errors.ts';
import { castValue, compareRows, expectedColumns, expectedSql, fixtureSql, unitTestSql } from './unit-test-sql.ts';

const COLS = [
  { name: 'id', dataType: 'integer' },
  { name: 'name', dataType: 'character varying(3)' },
  { name: 'amount', dataType: 'numeric(10,2)' },
];

describe('fixture SQL (dbt get_fixture_sql / format_row)', () => {
  it('casts every value to its column type; text is quoted; varchar loses its length for text (no silent truncation)', () => {
    assert.equal(castValue(1, 'integer'), 'cast(1 as integer)');
    assert.equal(castValue("it's", 'character varying(3)'), "cast('it''s' as character varying)");
    assert.equal(castValue(null, 'numeric(10,2)'), 'cast(null as numeric(10,2))');
    assert.equal(castValue(true, 'boolean'), 'cast(true as boolean)');
    assert.equal(castValue({ a: 1 }, 'jsonb'), `cast('{"a":1}' as jsonb)`);
    assert.equal(castValue('a\\b', 'text'), "cast(E'a\\\\b' as text)");
  });

  it('gives every column of the input, in its order; a column a row leaves out is a typed null', () => {
    const sql = fixtureSql([{ id: 1 }, { NAME: 'x', amount: 2.5 }], COLS, "'m'");
    assert.equal(
      sql,
      'select cast(1 as integer) as "id", cast(null as character varying(3)) as "name", cast(null as numeric(10,2)) as "amount"\n' +
        'union all\n' +
        `select cast(null as integer) as "id", cast('x' as character varying) as "name", cast(2.5 as numeric(10,2)) as "amount"`,
    );
  });

  it('no rows: one typed row of nulls, limit 0', () => {
    assert.match(fixtureSql([], COLS, "'m'"), /^select cast\(null as integer\) as "id", .* as "amount"\nlimit 0$/);
  });

  it('a column the input does not have is an error naming the accepted columns', () => {
    const e = thrown(() => fixtureSql([{ idd: 1 }], COLS, "'stg'", { file: 'models/u.yml', line: 3 }));
    assert.equal(e.message, "Invalid column name: 'idd' in unit test fixture for 'stg'. Accepted columns for 'stg' are: id, name, amount");
    assert.equal(e.file, 'models/u.yml');
    assert.equal(e.line, 3);
  });
});

describe('expected SQL and the unit test query', () => {
  it('compares the columns the expected rows name (every row), typed as the model returns them', () => {
    const cols = expectedColumns([{ ID: 1 }, { amount: 3 }], COLS);
    assert.deepEqual(cols.map((c) => c.name), ['id', 'amount']);
    assert.equal(expectedSql([{ ID: 1 }], cols), 'select cast(1 as integer) as "id", cast(null as numeric(10,2)) as "amount"');
    assert.throws(() => expectedColumns([{ nope: 1 }], COLS), /Invalid column name: 'nope' in unit test fixture for expected output/);
  });

  it('no expected rows: an empty copy of the actual rows', () => {
    assert.equal(expectedSql([], COLS), 'select * from dbt_internal_unit_test_actual\nlimit 0');
  });

  it('tags actual and expected rows of the compared columns, as get_unit_test_sql', () => {
    const sql = unitTestSql('select 1 as id;', 'select 1 as id', ['id']);
    assert.match(sql, /with dbt_internal_unit_test_actual as \(\n  select "id", 'actual' as "actual_or_expected"\n  from \(\nselect 1 as id\n  \) _dbt_internal_unit_test_actual/);
    assert.match(sql, /select "id", 'expected' as "actual_or_expected"/);
    assert.match(sql, /select \* from dbt_internal_unit_test_actual\nunion all\nselect \* from dbt_internal_unit_test_expected$/);
  });
});

describe('comparison (order-insensitive, as dbt sorts before diffing)', () => {
  const rows = (actual: unknown[][], expected: unknown[][]) => [
    ...actual.map(([id, v]) => ({ id, v, actual_or_expected: 'actual' })),
    ...expected.map(([id, v]) => ({ id, v, actual_or_expected: 'expected' })),
  ];

  it('equal in another order is equal', () => {
    const c = compareRows(['id', 'v'], rows([[1, 'a'], [2, 'b']], [[2, 'b'], [1, 'a']]));
    assert.equal(c.equal, true);
    assert.equal(c.rendered, '');
  });

  it('duplicates count', () => {
    assert.equal(compareRows(['id', 'v'], rows([[1, 'a'], [1, 'a']], [[1, 'a']])).equal, false);
  });

  it('the diff marks +++ rows only returned, --- rows only expected, blank rows in both', () => {
    const c = compareRows(['id', 'v'], rows([[1, 'a'], [2, 'x'], [3, null]], [[1, 'a'], [2, 'b'], [3, null]]));
    assert.equal(c.equal, false);
    assert.equal(c.rendered, ['@@  ,id ,v', '    ,1  ,a', '--- ,2  ,b', '+++ ,2  ,x', '    ,3  ,null'].join('\n'));
  });

  it('numeric values compare as numbers (12.50 = 12.5), text does not', () => {
    const r = [
      { id: 1, v: '12.50', actual_or_expected: 'actual' },
      { id: 1, v: '12.5', actual_or_expected: 'expected' },
    ];
    assert.equal(compareRows(['id', 'v'], r, new Set(['v'])).equal, true);
    assert.equal(compareRows(['id', 'v'], r).equal, false);
  });

  it('dates compare by their instant', () => {
    const d = new Date('2024-01-02T03:04:05Z');
    assert.equal(compareRows(['id', 'v'], rows([[1, d]], [[1, new Date(d.getTime())]])).equal, true);
  });
});

describe('parsing unit_tests: (dbt UnitTestParser)', () => {
  const target: TargetConfig = { name: 'dev', profileName: 'p', type: 'postgres', schema: 'analytics', threads: 1, dbname: 'test', extra: {}, source: 'test' };
  const parse = (files: Record<string, string>) => {
    const dir = writeProject({ 'dbt_project.yml': 'name: p\nprofile: p\nconfig-version: 2\n', 'models/a.sql': 'select 1 as id\n', 'models/b.sql': "select id from {{ ref('a') }}\n", ...files });
    try {
      return parseProject({ project: loadProjectConfig(dir, { vars: {} }), target, cliVars: {}, invocationId: 'i', env: {}, partialParse: false });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  const errors = (files: Record<string, string>) => {
    const e = thrown(() => parse(files));
    return e instanceof CompileErrors ? e.errors : [e];
  };

  it('builds the definition: unique_id, fqn with folders, depends_on the model, csv rows with nulls, a fixture file', () => {
    const r = parse({
      'models/marts/ut.yml': `unit_tests:
  - name: t
    model: b
    description: d
    given:
      - input: ref('a')
        format: csv
        rows: |
          id,x
          1,
      - input: ref('a')
        format: sql
        fixture: few
    expect:
      format: csv
      fixture: out
`,
      'tests/fixtures/few.sql': 'select 2 as id\n',
      'tests/fixtures/out.csv': 'id\n1\n',
    });
    const u = r.manifest.unit_tests['unit_test.p.b.t']!;
    assert.equal(u.resource_type, 'unit_test');
    assert.deepEqual(u.fqn, ['p', 'marts', 'b', 't']);
    assert.deepEqual(u.depends_on.nodes, ['model.p.b']);
    assert.deepEqual(u.given[0]!.rows, [{ id: '1', x: null }]);
    assert.equal(u.given[1]!.rows, 'select 2 as id\n');
    assert.equal(u.given[1]!.fixture, 'few');
    assert.deepEqual(u.expect.rows, [{ id: '1' }]);
    assert.equal(u.description, 'd');
    // a .sql fixture under tests/fixtures is not a singular data test (as dbt)
    assert.ok(!Object.keys(r.manifest.nodes).some((id) => id.startsWith('test.')));
  });

  it('reports a missing model, a missing input, a missing fixture and rows that do not match the format, with file and line', () => {
    const es = errors({
      'models/ut.yml': `unit_tests:
  - name: t1
    model: nope
    given: []
    expect: {rows: []}
  - name: t2
    model: b
    given:
      - input: ref('zzz')
        rows: []
    expect: {rows: []}
  - name: t3
    model: b
    given:
      - input: ref('a')
        format: csv
        fixture: absent
    expect: {rows: []}
  - name: t4
    model: b
    given:
      - input: ref('a')
        rows: "1,2"
    expect: {rows: []}
  - name: t5
    model: b
    given:
      - input: a
        rows: []
    expect: {rows: []}
`,
    });
    const text = es.map((e) => `${e.file}:${e.line} ${e.message}`).join('\n');
    assert.match(text, /models\/ut\.yml:2 Unable to find model 'p\.nope' for unit test 't1'/);
    assert.match(text, /models\/ut\.yml:9 Unit test 't2' had an input \(ref\('zzz'\)\) which was not found in the manifest\./);
    assert.match(text, /models\/ut\.yml:15 File not found for fixture 'absent'/);
    assert.match(text, /models\/ut\.yml:22 Unit test t4 has input rows which do not match format dict/);
    assert.match(text, /Unit test given inputs must be either a 'ref', 'source' or 'this' call\. Got: 'a'/);
  });

  it('versions: on a unit test is an [unsupported] error at its line (never run against the wrong version silently)', () => {
    const es = errors({ 'models/ut.yml': 'unit_tests:\n  - name: t1\n    model: b\n    versions: {include: [1]}\n    given:\n      - input: ref(\'a\')\n        rows: []\n    expect: {rows: []}\n' });
    assert.equal(es.length, 1);
    assert.equal(`${es[0].file}:${es[0].line}`, 'models/ut.yml:2');
    assert.match(es[0].message, /\[unsupported\] versions: on unit test 't1'/);
  });

  it('an incremental model needs a boolean is_incremental override, and true needs a this input (dbt parse errors)', () => {
    const es = errors({
      'models/inc.sql': "{{ config(materialized='incremental') }}\nselect 1 as id\n{% if is_incremental() %}where false{% endif %}\n",
      'models/ut.yml': `unit_tests:
  - name: t1
    model: inc
    given: []
    expect: {rows: []}
  - name: t2
    model: inc
    overrides: {macros: {is_incremental: true}}
    given: []
    expect: {rows: []}
`,
    });
    const text = es.map((e) => e.message).join('\n');
    assert.match(text, /Boolean override for 'is_incremental' must be provided for unit test 't1' in model 'inc'/);
    assert.match(text, /Unit test 't2' for incremental model 'inc' must have a 'this' input/);
  });

  it('a seed input without rows takes the seed file\'s rows (as dbt; empty cells are null, as in the loaded seed)', () => {
    const r = parse({
      'seeds/codes.csv': 'code,label\nA,Alpha\nB,\n',
      'models/c.sql': "select code from {{ ref('codes') }}\n",
      'models/ut.yml': `unit_tests:
  - name: t
    model: c
    given:
      - input: ref('codes')
    expect: {rows: [{code: A}, {code: B}]}
`,
    });
    assert.deepEqual(r.manifest.unit_tests['unit_test.p.c.t']!.given[0]!.rows, [
      { code: 'A', label: 'Alpha' },
      { code: 'B', label: null },
    ]);
  });

  it('config: enabled false (or a disabled model) leaves it out; unknown keys are warnings', () => {
    const r = parse({
      'models/ut.yml': `unit_tests:
  - name: t_off
    model: b
    config: {enabled: false}
    given: []
    expect: {rows: []}
  - name: t_on
    model: b
    colour: red
    given: []
    expect: {rows: []}
`,
    });
    assert.deepEqual(Object.keys(r.manifest.unit_tests), ['unit_test.p.b.t_on']);
    assert.ok(r.manifest.disabled['unit_test.p.b.t_off']);
    assert.ok(r.warnings.some((w) => /unknown property 'colour' on unit test 't_on'/.test(w.message)), r.warnings.map((w) => w.message).join('\n'));
  });
});
