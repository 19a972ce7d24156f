/**
 * `tsdbt show` and `tsdbt compile` as dbt ≥ 1.5 prints them (dbt-core core/dbt/task/show.py and
 * the ShowNode / CompiledNode events): `--inline` SQL rendered with the run-time context (refs to
 * the built relations, ephemeral parents as CTEs, macros), `--limit` (default 5, negative: every
 * row), `--output json` (`{"node", "show"}`; `{"show"}` for inline SQL; `{"node", "compiled"}` /
 * `{"compiled"}` for compile), and a text table cut to the terminal's width (COLUMNS).
 */
import { it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { describeEngines, Project, projectYml, type Files } from './harness.ts';
import { formatTable } from '../../src/cli/show.ts';

const FILES: Files = {
  'dbt_project.yml': projectYml('showp'),
  'seeds/people.csv': 'id,name\n1,alice\n2,bob\n3,carol\n4,dave\n5,erin\n6,frank\n7,grace\n',
  'models/eph.sql': "{{ config(materialized='ephemeral') }}\nselect id, upper(name) as shout from {{ ref('people') }}\n",
  'models/wide.sql': "{{ config(materialized='table') }}\nselect id, repeat(name, 40) as long_text from {{ ref('people') }}\n",
  'macros/double.sql': '{% macro double(x) %}({{ x }} * 2){% endmacro %}\n',
};

await describeEngines('show and compile', (engine) => {
  let p: Project;
  before(async () => {
    p = await Project.create(engine, FILES);
    const r = await p.cli('build');
    assert.equal(r.code, 0, r.output);
  });
  after(async () => {
    await p?.cleanup();
  });

  it('show --inline renders ref() and a macro, and limits to 5 rows by default (as dbt)', async () => {
    const r = await p.cli('show', ['--inline', "select id, {{ double('id') }} as twice from {{ ref('people') }} order by id", '--output', 'json']);
    assert.equal(r.code, 0, r.output);
    const j = JSON.parse(r.stdout) as { node?: string; show: { id: number; twice: number }[] };
    assert.equal(j.node, undefined, 'dbt prints no node name for inline SQL');
    assert.deepEqual(j.show, [1, 2, 3, 4, 5].map((id) => ({ id, twice: id * 2 })));
  });

  it('show --inline inlines an ephemeral model as a CTE; --limit -1 shows every row', async () => {
    const r = await p.cli('show', ['--inline', "select * from {{ ref('eph') }} order by id", '--limit', '-1', '--output', 'json']);
    assert.equal(r.code, 0, r.output);
    const j = JSON.parse(r.stdout) as { show: { id: number; shout: string }[] };
    assert.equal(j.show.length, 7);
    assert.deepEqual(j.show[6], { id: 7, shout: 'GRACE' });
  });

  it('show --select x --output json is {"node": name, "show": rows}; --limit 2', async () => {
    const r = await p.cli('show', ['--select', 'people', '--limit', '2', '--output', 'json']);
    assert.equal(r.code, 0, r.output);
    const j = JSON.parse(r.stdout) as { node: string; show: unknown[] };
    assert.equal(j.node, 'people');
    assert.equal(j.show.length, 2);
  });

  it('show prints a table no wider than the terminal (COLUMNS=60), cutting the wide column', async () => {
    const r = await p.cli('show', ['--select', 'wide'], { COLUMNS: '60' });
    assert.equal(r.code, 0, r.output);
    assert.match(r.stdout, /Previewing node 'wide':/);
    const table = r.stdout.split('\n').filter((l) => l.startsWith('|'));
    assert.equal(table.length, 2 + 5, r.stdout);
    for (const l of table) assert.ok(l.length <= 60, `${l.length}: ${l}`);
    assert.match(table[0], /^\| id +\| long_text +\|$/);
    assert.match(table[2], /^\| +1 \| (alice)+a?l?i?c?\.\.\. \|$/);
  });

  it('show --inline with an unknown ref is an error naming --inline, exit 2', async () => {
    const r = await p.cli('show', ['--inline', "select * from {{ ref('nope') }}"]);
    assert.equal(r.code, 2, r.output);
    assert.match(r.stderr, /--inline.*'nope', which does not exist/);
  });

  it('compile --inline prints the compiled SQL alone on stdout (dbt ≥ 1.5)', async () => {
    const r = await p.cli('compile', ['--inline', "select {{ double('id') }} from {{ ref('people') }}"]);
    assert.equal(r.code, 0, r.output);
    assert.equal(r.stdout.trim(), `select (id * 2) from "${dbName(engine.name)}"."${p.schema}"."people"`);
  });

  it('compile --inline with run_query connects and renders with the answer (as dbt compiles against the database); a bad --limit is a usage error', async () => {
    const r = await p.cli('compile', ['--inline', "{% set r = run_query('select count(*) as n from ' ~ ref('people')) %}select {{ r.columns[0].values()[0] }} as n"]);
    assert.equal(r.code, 0, r.output);
    assert.equal(r.stdout.trim(), 'select 7 as n');
    const bad = await p.cli('show', ['--select', 'people', '--limit', 'many']);
    assert.equal(bad.code, 2, bad.output);
    assert.match(bad.stderr, /--limit must be a whole number, got 'many'/);
  });

  it('compile --inline --output json is {"compiled": sql}; compile --select x --output json is {"node", "compiled"}', async () => {
    const a = await p.cli('compile', ['--inline', "select * from {{ ref('eph') }}", '--output', 'json']);
    assert.equal(a.code, 0, a.output);
    const ja = JSON.parse(a.stdout) as Record<string, string>;
    assert.deepEqual(Object.keys(ja), ['compiled']);
    assert.match(ja.compiled, /with __dbt__cte__eph as \(/);
    const b = await p.cli('compile', ['--select', 'wide', '--output', 'json']);
    assert.equal(b.code, 0, b.output);
    const jb = JSON.parse(b.stdout) as Record<string, string>;
    assert.equal(jb.node, 'wide');
    assert.match(jb.compiled, /repeat\(name, 40\) as long_text from "[^"]+"\."[^"]+"\."people"/);
  });
});

/** The database name relations are qualified with (PGlite: `postgres`). */
function dbName(engine: string): string {
  return engine === 'pglite' ? 'postgres' : (process.env.PGDATABASE ?? 'test');
}

it('formatTable: agate layout, numbers right-aligned, nulls empty, cut to the width', () => {
  const rows = [{ n: 1, s: 'x'.repeat(30) }, { n: 100, s: null }];
  assert.equal(formatTable(['n', 's'], rows, null), ['| n   | s                              |', '| --- | ------------------------------ |', '|   1 | xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx |', '| 100 |                                |'].join('\n'));
  const cut = formatTable(['n', 's'], rows, 20).split('\n');
  for (const l of cut) assert.equal(l.length, 20, l);
  assert.equal(cut[2], '|   1 | xxxxxxx... |');
});
