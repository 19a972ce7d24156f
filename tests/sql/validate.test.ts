/**
 * SQL validation before anything runs (issue 15): the planted syntax errors of
 * tests/fixtures/sql-errors are all reported in one go, each at the file, line
 * and column where the user wrote it (the model, a macro, a Jinja loop), exit 2,
 * and no model is built. dbt itself finds these only when the database runs each
 * statement (against the compiled file); `--no-validate` gives that behaviour back.
 * On PostgreSQL and PGlite.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { describeEngines, fixture, Project, projectYml } from '../integration/harness.ts';

const FILES = fixture('sql-errors');

/** The `file:line:col [code]` heads of the errors printed. */
function heads(output: string): string[] {
  return [...output.matchAll(/^(\S+:\d+(?::\d+)?|\S+\.sql) \[(sql-[a-z-]+)\]/gm)].map((m) => `${m[1]} ${m[2]}`).sort();
}

const EXPECTED = [
  'macros/casts.sql:2:21 sql-syntax', // cast({{ col }} as ) — the macro's line, not the model's
  'models/bad_static.sql:3:6 sql-syntax', // id,,
  'models/empty.sql sql-empty',
  'models/loop.sql:4:24 sql-syntax', // the loop body's second `as`
  'models/two.sql:2:1 sql-multiple-statements',
];

await describeEngines('SQL validation', (engine) => {
  it('run: every syntax error at its file:line:column, with a caret, exit 2, nothing built', async () => {
    const p = await Project.create(engine, FILES);
    try {
      const r = await p.cli('run');
      assert.equal(r.code, 2, r.output);
      assert.deepEqual(heads(r.output), EXPECTED, r.output);
      assert.match(r.output, / {2}3 \| {3}id,,\n {4}\| {6}\^/, 'the line and a caret under the second comma');
      assert.match(r.output, /syntax error at or near "\)"/);
      assert.match(r.output, /called from model 'uses_macro' at models\/uses_macro\.sql:3/);
      assert.match(r.output, /SQL not validated \(config validate: false or static_analysis: off\): skipped/);
      assert.match(r.output, /5 errors found; nothing was run/);
      assert.deepEqual(await p.relations(), {}, 'no model was built');
    } finally {
      await p.cleanup();
    }
  });

  it('run --no-validate: the check is off (said so), the database finds the errors instead', async () => {
    const p = await Project.create(engine, FILES);
    try {
      const r = await p.cli('run', ['--no-validate']);
      assert.equal(r.code, 1, r.output);
      assert.match(r.output, /SQL validation is off \(--no-validate\)/);
      assert.equal((await p.relations()).a, 'view', r.output);
      assert.equal((await p.relations()).trailing, 'view', 'a trailing ; is fine');
    } finally {
      await p.cleanup();
    }
  });
});

await describeEngines('SQL validation of a node compiled at run time', (engine) => {
  it('a model whose template asks the database is checked when it compiles, just before it runs: its error, at its line', async () => {
    const p = await Project.create(engine, {
      'dbt_project.yml': projectYml('sqllive'),
      'models/fine.sql': 'select 1 as ok\n',
      'models/live.sql': "{% set r = run_query('select 7 as n') %}\nselect\n  {% if execute %}{{ r.columns[0].values()[0] }}{% endif %} as n,,\n  2 as m\n",
    });
    try {
      const r = await p.cli('run');
      assert.equal(r.code, 1, r.output);
      assert.match(r.output, /models\/live\.sql:3:66 \[sql-syntax\] syntax error at or near ","/);
      assert.equal((await p.relations()).fine, 'view', r.output);
      assert.equal((await p.relations()).live, undefined, 'not created');
    } finally {
      await p.cleanup();
    }
  });
});

await describeEngines('SQL validation in compile and parse', (engine) => {
  it('compile and parse run the same check (exit 2, same errors)', { skip: engine.name === 'postgres' ? 'compile/parse ask no database: checked once, on PGlite' : undefined }, async () => {
    const p = await Project.create(engine, FILES);
    try {
      for (const cmd of ['compile', 'parse']) {
        const r = await p.cli(cmd);
        assert.equal(r.code, 2, `${cmd}: ${r.output}`);
        assert.deepEqual(heads(r.output), EXPECTED, `${cmd}: ${r.output}`);
      }
      // Only the broken models removed: compile passes and writes lineage.json.
      p.write({ 'models/bad_static.sql': null, 'models/uses_macro.sql': null, 'models/loop.sql': null, 'models/two.sql': null, 'models/empty.sql': null });
      const ok = await p.cli('compile');
      assert.equal(ok.code, 0, ok.output);
      const lineage = p.json<{ nodes: Record<string, { columns: Record<string, unknown> }> }>('target/lineage.json');
      assert.deepEqual(Object.keys(lineage.nodes['model.sql_errors.a'].columns), ['id', 'name']);
    } finally {
      await p.cleanup();
    }
  });
});

await describeEngines('SQL validation: snapshots, generic tests, hooks; tsdbt lineage', (engine) => {
  const skip = engine.name === 'postgres' ? 'compile and lineage ask no database here: checked once, on PGlite' : undefined;
  it('a snapshot body, a generic test config, a model hook and an on-run-start hook (without Jinja), each at its place', { skip }, async () => {
    const p = await Project.create(engine, {
      'dbt_project.yml': projectYml('sqlmore', 'on-run-start:\n  - "create table if not exists audit (id int)"\n  - "insert into audit values (1,"\n  - "select {{ 1 }}"\n'),
      'models/a.sql': "select 1 as id, 'x' as name\n",
      'models/hooked.sql': '{{ config(\n    post_hook="grant select on {{ this }} too public"\n) }}\nselect id from {{ ref(\'a\') }}\n',
      'models/schema.yml': 'version: 2\nmodels:\n  - name: a\n    columns:\n      - name: id\n        data_tests:\n          - not_null:\n              config:\n                where: "id >> = 1"\n',
      'snapshots/snap.sql':
        "-- a snapshot with a typo in its body\n{% snapshot snap %}\n{{ config(unique_key='id', strategy='check', check_cols='all', target_schema='snaps') }}\nselect id, name\nfrom {{ ref('a') }}\nwher id > 0\n{% endsnapshot %}\n",
    });
    try {
      const r = await p.cli('compile');
      assert.equal(r.code, 2, r.output);
      assert.deepEqual(heads(r.output), ['dbt_project.yml:7:34 sql-syntax', 'models/hooked.sql:2:43 sql-syntax', 'models/schema.yml:5 sql-syntax', 'snapshots/snap.sql:6:6 sql-syntax'], r.output);
      assert.match(r.output, /post_hook of model 'hooked'/);
      assert.match(r.output, /where id >> = 1\) dbt_subquery\n\s+\|\s+\^/, 'the test: its compiled line and a caret');
    } finally {
      await p.cleanup();
    }
  });

  it('tsdbt lineage --column: upstream and downstream trees, text and json', { skip }, async () => {
    const p = await Project.create(engine, fixture('jaffle-lineage'));
    try {
      const r = await p.cli('lineage', ['--column', 'stg_payments.amount']);
      assert.equal(r.code, 0, r.output);
      assert.match(r.stdout, /^stg_payments\.amount {2}\[derived\]\nupstream:\n {2}└─ raw_payments\.amount \(derived\)\ndownstream:\n/);
      assert.match(r.stdout, /├─ customers\.customer_lifetime_value \(aggregated\)/);
      assert.match(r.stdout, /orders\.amount \(aggregated\)\n\s+│?\s+[├└]─ customer_order_history\.running_amount \(aggregated\)/);
      const j = await p.cli('lineage', ['--column', 'orders.coupon_amount', '--output', 'json', '--direction', 'up']);
      assert.equal(j.code, 0, j.output);
      const tree = JSON.parse(j.stdout) as { upstream: { name: string; column: string; kind: string; children: { name: string; column: string }[] }[]; downstream?: unknown };
      assert.deepEqual(tree.upstream.map((u) => `${u.name}.${u.column}:${u.kind}`), ['stg_payments.amount:aggregated', 'stg_payments.payment_method:aggregated']);
      assert.deepEqual(tree.upstream[0].children.map((c) => `${c.name}.${c.column}`), ['raw_payments.amount']);
      assert.equal(tree.downstream, undefined);
      const bad = await p.cli('lineage', ['--column', 'orders.nope']);
      assert.equal(bad.code, 2);
      assert.match(bad.output, /\[column-not-found\] orders\.nope: orders has no column 'nope' \(it has order_id, /);
    } finally {
      await p.cleanup();
    }
  });
});
