/**
 * Checks beyond the model bodies (issue 15, "a syntax error anywhere in a
 * project is reported before any query"): a column qualified by a name that
 * is no FROM item in scope (PostgreSQL's run-time "missing FROM-clause entry"
 * / "invalid reference to FROM-clause entry"), analyses, unit tests'
 * `format: sql` rows, on-run hooks with Jinja (rendered ahead, or checked when
 * they run when they use `results`), generic tests on a column the model does
 * not produce, and errors in the second of several `{{ }}` on one line.
 * Pure checks first, then projects on PostgreSQL and PGlite.
 */
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { describeEngines, Project, projectYml } from '../integration/harness.ts';
import { loadSqlParser, parseSql } from '../../src/sql/parser.ts';
import { fromReferenceErrors } from '../../src/sql/scope-check.ts';
import { locateRendered } from '../../src/sql/source-map.ts';

/** The FROM-reference errors of `sql` as `message @ offset`. */
function refErrors(sql: string): string[] {
  const r = parseSql(sql);
  assert.ok(r.ok, `parses: ${sql}`);
  return fromReferenceErrors(r.tree, sql).map((e) => `${e.message} @ ${e.offset}`);
}

describe('FROM references in the parse tree', () => {
  before(() => loadSqlParser());

  it('legal SQL gives nothing: aliases, table names, CTEs, subqueries, lateral, correlated subqueries, functions, joins', () => {
    const legal = [
      'select u.id, u.* from "db"."s"."stg_users" as u',
      'select stg_users.id from "db"."s"."stg_users"',
      'with x as (select 1 as id) select x.id from x',
      'with x as (select 1 as id) select y.id from x y where y.id in (select x.id from x)',
      'select a.id, (select max(b.id) from t b where b.id = a.id) as m from t a',
      'select a.id, l.z from t a cross join lateral (select a.id + 1 as z) l',
      'select generate_series.generate_series from generate_series(1, 3)',
      'select g.n from generate_series(1, 3) as g(n)',
      'select u.x from unnest(array[1, 2]) as u(x)',
      'select v.a from (values (1), (2)) as v(a)',
      'select a.id from t a join s b using (id) where exists (select 1 from (select a.id as q) s2 where s2.q = b.id)',
      'select j.id from t a join s b using (id) as j',
      'select a.id from t a union all select b.id from s b order by id',
      'select t.id from t group by t.id having count(t.id) > 1 order by t.id',
      'select sum(t.x) over (partition by t.y order by t.z) from t',
      'select s.id from (select t.id from t) s where s.id > (select avg(t2.id) from t t2)',
      'select x.a from xmltable(\'/r\' passing \'<r/>\' columns a int path \'a\') as x',
      'select count(*) filter (where t.ok) from public.t',
      'select a.b.c from t a', // three parts: table.column.field (not checked)
    ];
    for (const sql of legal) assert.deepEqual(refErrors(sql), [], sql);
  });

  it('a table used under its alias\'s back, and a name no FROM item has, in PostgreSQL\'s words, at the reference', () => {
    assert.deepEqual(refErrors('select stg_users.id, u.name from "db"."s"."stg_users" as u'), ['missing FROM-clause entry for table "stg_users" @ 7']);
    assert.deepEqual(refErrors('select x.id from t'), ['missing FROM-clause entry for table "x" @ 7']);
    assert.deepEqual(refErrors('with c as (select 1 as id) select c.id from c as d'), ['missing FROM-clause entry for table "c" @ 34']);
    assert.deepEqual(refErrors('select a.id from t a where exists (select 1 from s b where z.id = b.id)'), ['missing FROM-clause entry for table "z" @ 59']);
    assert.deepEqual(refErrors('select 1 from t a join s b on a.id = c.id'), ['missing FROM-clause entry for table "c" @ 37']);
    assert.deepEqual(refErrors('select q.* from t'), ['missing FROM-clause entry for table "q" @ 7']);
    const r = parseSql('select stg_users.id from stg_users u');
    assert.ok(r.ok);
    assert.equal(fromReferenceErrors(r.tree, 'select stg_users.id from stg_users u')[0].hint, 'Perhaps you meant to reference the table alias "u".');
  });
});

describe('source map: several {{ }} on one line', () => {
  const at = (tpl: string, out: string, needle: string) => {
    const loc = locateRendered(out, out.indexOf(needle), { file: 'm.sql', text: tpl, line: 1, column: 1, label: 'm' }, []);
    return `${loc?.line}:${loc?.column}`;
  };
  it('an error in the second tag\'s output points at the second tag', () => {
    assert.equal(at('select {{ a }} {{ b }}\nfrom t', 'select 1 +*\nfrom t', '+*'), '1:16');
    assert.equal(at('select {{ a }} {{ b }} {{ c }}\nfrom t', 'select 1 +* 3\nfrom t', '+*'), '1:16');
    assert.equal(at('select {{ a }} {{ b }} {{ c }}\nfrom t', 'select 1 2 +*\nfrom t', '+*'), '1:24');
    assert.equal(at("select x from {{ ref('a') }}{{ ref('b') }}\n", 'select x from "d"."s"."a""d"."s"."b" !\n', '"d"."s"."b"'), '1:29');
    assert.equal(at('select {{ a }} as x, {{ b }} as y\nfrom t', 'select 1 as x, 2 +* as y\nfrom t', '+*'), '1:22');
  });
  it('the first tag when the output cannot be cut with certainty', () => {
    assert.equal(at('select {{ a }}{{ b }} as z\nfrom t', 'select 1+* as z\nfrom t', '+*'), '1:8');
  });
});

/** The `file:line:col [code]` heads of the errors and warnings printed. */
function heads(output: string): string[] {
  return [...output.matchAll(/^(?:\d\d:\d\d:\d\d {2})?(\S+?:\d+(?::\d+)?|\S+\.(?:sql|yml)) \[([a-z-]+)\]/gm)].map((m) => `${m[1]} ${m[2]}`).sort();
}

const PLANTED = {
  'dbt_project.yml': projectYml('sqlchecks', 'on-run-start:\n  - "create table if not exists {{ target.schema }}.audit_start (id int,)"\n'),
  'models/stg_users.sql': "select 1 as id, 'a' as name\n",
  'models/aliased.sql': "select stg_users.id,\n  u.name\nfrom {{ ref('stg_users') }} as u\n",
  'models/two_tags.sql': "select {{ 'id' }} {{ ',, name' }}\nfrom {{ ref('stg_users') }}\n",
  'analyses/report.sql': "select id\nfrom {{ ref('stg_users') }} where\n",
  'models/unit.yml':
    'unit_tests:\n  - name: ut_aliased\n    model: aliased\n    given:\n      - input: ref(\'stg_users\')\n        format: sql\n        rows: |\n          select 1 as id, \'a\' as name\n          union all select 2 as id, \'b\' as name from\n    expect:\n      rows:\n        - {id: 1}\n',
};

await describeEngines('checks before the run', (engine) => {
  it('a FROM reference, unit-test rows, an on-run-start hook with Jinja and a second tag: each at its file:line:col, exit 2, nothing built', async () => {
    const p = await Project.create(engine, PLANTED);
    try {
      const r = await p.cli('run');
      assert.equal(r.code, 2, r.output);
      assert.deepEqual(
        heads(r.output),
        [
          'dbt_project.yml:6:73 sql-syntax',
          'models/aliased.sql:1:8 sql-from-reference',
          'models/two_tags.sql:1:19 sql-syntax',
          'models/unit.yml:9:53 sql-syntax',
        ],
        r.output,
      );
      assert.match(r.output, /missing FROM-clause entry for table "stg_users" \(PostgreSQL's error when it runs/);
      assert.match(r.output, / {2}1 \| select stg_users\.id,\n {4}\| {8}\^/);
      assert.match(r.output, /HINT: Perhaps you meant to reference the table alias "u"\./);
      assert.match(r.output, /on-run-start hook 0, rendered ahead of the run/);
      assert.match(r.output, /given ref\('stg_users'\) of unit test 'ut_aliased'/);
      assert.match(r.output, /4 errors found; nothing was run/);
      assert.deepEqual(await p.relations(), {}, 'nothing built');
      const off = await p.cli('run', ['--no-validate']);
      assert.equal(off.code, 1, off.output);
      assert.match(off.output, /missing FROM-clause entry for table "stg_users"/, 'the database says the same at run time');
    } finally {
      await p.cleanup();
    }
  });

  it('compile checks analyses too (run does not compile them); compile and parse render the Jinja on-run hooks ahead, as run does', { skip: engine.name === 'postgres' ? 'compile asks no database here: checked once, on PGlite' : undefined }, async () => {
    const p = await Project.create(engine, PLANTED);
    try {
      const r = await p.cli('compile');
      assert.equal(r.code, 2, r.output);
      assert.ok(heads(r.output).includes('analyses/report.sql:2:34 sql-syntax'), r.output);
      assert.ok(heads(r.output).includes('dbt_project.yml:6:73 sql-syntax'), r.output);
      assert.match(r.output, /syntax error at end of input \(PostgreSQL's parser, analysis 'report'\)/);
      const parsed = await p.cli('parse');
      assert.equal(parsed.code, 2, parsed.output);
      assert.ok(heads(parsed.output).includes('dbt_project.yml:6:73 sql-syntax'), parsed.output);
      assert.match(parsed.output, /on-run-start hook 0, rendered ahead of the run/);
    } finally {
      await p.cleanup();
    }
  });

  it('hooks and unit tests rendered at run time are checked then (at the template\'s line); a test on a column the model does not produce warns', async () => {
    const p = await Project.create(engine, {
      'dbt_project.yml': projectYml('sqlrt', 'on-run-end:\n  - "{% for r in results %}select \'{{ r.node.name }}\' as n,,{% endfor %}"\n'),
      'models/a.sql': 'select 1 as id\n',
      'models/b.sql': "select id from {{ ref('a') }}\n",
      'models/c.sql': "{{ config(post_hook=\"{% set r = run_query('select 1') %}select 1 +\") }}\nselect id from {{ ref('a') }}\n",
      'models/schema.yml': 'version: 2\nmodels:\n  - name: c\n    data_tests:\n      - not_null:\n          column_name: idd\n',
      'models/unit.yml':
        "unit_tests:\n  - name: ut_b\n    model: b\n    given:\n      - input: ref('a')\n        format: sql\n        rows: \"select {{ 1 }} as id,,\"\n    expect:\n      rows:\n        - {id: 1}\n",
    });
    try {
      const r = await p.cli('build');
      assert.equal(r.code, 1, r.output);
      assert.match(r.output, /models\/schema\.yml:3 \[test-column-not-produced\] data test 'not_null_c_idd' checks column 'idd' of model 'c', but the model's SQL does not produce it \(it produces id\)/);
      assert.match(r.output, /dbt_project\.yml:6:60 \[sql-syntax\] syntax error at or near "," \(PostgreSQL's parser, on-run-end hook 0, as rendered when it ran\)/);
      assert.match(r.output, /models\/c\.sql \[sql-syntax\] syntax error at end of input \(PostgreSQL's parser, hook of model 'c', as rendered when it ran\)/);
      assert.match(r.output, /models\/unit\.yml:2 \[sql-syntax\] syntax error at or near "," \(PostgreSQL's parser, unit test 'ut_b', as rendered when it ran\)/);
      assert.match(r.output, /ERROR hook: sqlrt\.on-run-end\.0/, 'the hook is an error result, as a database error would be');
      assert.equal((await p.relations()).a, 'view', 'the rest ran');
    } finally {
      await p.cleanup();
    }
  });
});
