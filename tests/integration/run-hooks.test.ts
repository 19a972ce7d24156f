/**
 * `on-run-start` / `on-run-end` hooks (dbt_project.yml), end to end on both
 * engines, following dbt-core's tests/functional/adapter/hooks/test_on_run_hooks.py:
 * hooks run around the nodes, rendered at run time (on-run-end sees `results`,
 * `schemas`, `database_schemas`); a failing hook is an `error` result named
 * `<project>.on-run-start.<i>` and the hooks after it are skipped, the nodes
 * still run, on-run-end runs even after node failures, exit 1; each hook is an
 * `operation.<project>.<project>-on-run-start-<i>` result in run_results.json;
 * hooks of installed packages run first (root project last); nothing selected,
 * no hook runs.
 */
import { it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { describeEngines, Project, projectYml, type Files } from './harness.ts';

const FILES: Files = {
  'dbt_project.yml': projectYml(
    'rh',
    `on-run-start:
  - "create table if not exists {{ target.schema }}.hook_log (what text, name text, status text)"
  - "insert into {{ target.schema }}.hook_log values ('start', '{{ this.name }}', '{{ flags.WHICH }}')"
on-run-end: "{{ log_results(results, schemas, database_schemas) }}"
`,
  ),
  'macros/log_results.sql': `{% macro log_results(results, schemas, database_schemas) %}
  {% for r in results %}
  insert into {{ target.schema }}.hook_log values ('result', '{{ r.node.name }}', '{{ r.status }}');
  {% endfor %}
  {% for s in schemas %}
  insert into {{ target.schema }}.hook_log values ('schema', '{{ s }}', null);
  {% endfor %}
  {% for db, s in database_schemas %}
  insert into {{ target.schema }}.hook_log values ('database_schema', '{{ db }}.{{ s }}', null);
  {% endfor %}
  select 1
{% endmacro %}
`,
  'models/good.sql': "{{ config(materialized='table') }}\nselect 1 as id\n",
  'models/bad.sql': 'select * from no_such_relation\n',
  'models/after_bad.sql': "select * from {{ ref('bad') }}\n",
  'models/schema.yml': 'version: 2\nmodels:\n  - name: good\n    columns:\n      - name: id\n        data_tests: [not_null]\n',
  'seeds/s.csv': 'id\n1\n',
};

type Row = { what: string; name: string; status: string | null };

await describeEngines('on-run-start / on-run-end hooks', (engine) => {
  let p: Project;
  before(async () => {
    p = await Project.create(engine, FILES);
  });
  after(async () => {
    await p?.cleanup();
  });

  it('runs on-run-start before the nodes and on-run-end after them, even after a node failure (exit 1)', async () => {
    const r = await p.cli('run');
    assert.equal(r.code, 1, r.output);
    assert.match(r.stdout, /Finished running 3 project hooks, 1 table model, 2 view models in /); // dbt's get_counts: hooks and models by materialization
    assert.match(r.stdout, /Running 2 on-run-start hooks/);
    assert.match(r.stdout, /1 of 2 OK hook: rh\.on-run-start\.0/);
    assert.match(r.stdout, /1 of 1 OK hook: rh\.on-run-end\.0/);
    const rows = await p.rows<Row>('select what, name, status from hook_log order by what, name');
    assert.deepEqual(rows, [
      { what: 'database_schema', name: `${p.target.type === 'pglite' ? 'postgres' : p.target.dbname}.${p.schema}`, status: null },
      // results: the nodes (hooks that passed are left out, as dbt)
      { what: 'result', name: 'after_bad', status: 'skipped' },
      { what: 'result', name: 'bad', status: 'error' },
      { what: 'result', name: 'good', status: 'success' },
      // schemas: only where a relational node succeeded
      { what: 'schema', name: p.schema, status: null },
      // {{ this }} of a hook is the hook node; flags.WHICH the command
      { what: 'start', name: 'rh-on-run-start-1', status: 'run' },
    ]);
  });

  it('records each hook as an operation node in run_results.json, in run order', () => {
    const rr = p.json('target/run_results.json');
    const got = rr.results.map((x: { unique_id: string; status: string }) => [x.unique_id, x.status]);
    assert.deepEqual(got.slice(0, 2), [
      ['operation.rh.rh-on-run-start-0', 'success'],
      ['operation.rh.rh-on-run-start-1', 'success'],
    ]);
    assert.deepEqual(got.at(-1), ['operation.rh.rh-on-run-end-0', 'success']);
    assert.deepEqual(got.slice(2, -1).map((x: string[]) => x[0]).sort(), ['model.rh.after_bad', 'model.rh.bad', 'model.rh.good']);
    const first = rr.results[0];
    assert.equal(first.thread_id, 'main');
    assert.equal(first.message, 'rh.on-run-start.0 passed');
    assert.equal(first.failures, 0);
    assert.deepEqual(first.timing.map((t: { name: string }) => t.name), ['compile', 'execute']);
    assert.match(first.compiled_code, new RegExp(`create table if not exists ${p.schema}\\.hook_log`));
    // and in manifest.json as dbt's HookNodes
    const m = p.json('target/manifest.json');
    const hook = m.nodes['operation.rh.rh-on-run-start-1'];
    assert.equal(hook.resource_type, 'operation');
    assert.equal(hook.name, 'rh-on-run-start-1');
    assert.deepEqual(hook.tags, ['on-run-start']);
    assert.match(hook.raw_code, /insert into \{\{ target\.schema \}\}\.hook_log/);
    assert.deepEqual(m.parent_map['operation.rh.rh-on-run-end-0'], []);
  });

  it('seed, test and build run the hooks too', async () => {
    await p.query('delete from hook_log');
    const s = await p.cli('seed');
    assert.equal(s.code, 0, s.output);
    const t = await p.cli('test', ['--select', 'good']);
    assert.equal(t.code, 0, t.output);
    const b = await p.cli('build', ['--select', 'good']);
    assert.equal(b.code, 0, b.output);
    const starts = await p.rows<Row>("select status from hook_log where what = 'start'");
    assert.deepEqual(starts.map((x) => x.status).sort(), ['build', 'seed', 'test']);
  });

  it('runs no hook when the selection matches nothing', async () => {
    await p.query('delete from hook_log');
    const r = await p.cli('run', ['--select', 'tag:no_such_tag']);
    assert.equal(r.code, 0, r.output);
    assert.doesNotMatch(r.stdout, /hook/);
    assert.deepEqual(await p.rows('select * from hook_log'), []);
    assert.deepEqual(p.json('target/run_results.json').results, []);
  });

  it('a failing on-run-start hook is an error named after it; the later hooks are skipped, the nodes still run', async () => {
    p.write({
      'dbt_project.yml': projectYml(
        'rh',
        `on-run-start:
  - "create table {{ target.schema }}.my_hook_table ( id int )"
  - "drop table {{ target.schema }}.my_hook_table"
  - "insert into {{ target.schema }}.my_hook_table (id) values (1, 2, 3)"
  - "create table {{ target.schema }}.my_hook_table ( id int )"
on-run-end:
  - "create table {{ target.schema }}.end_ran as select {{ results | length }} as n"
`,
      ),
    });
    const r = await p.cli('run', ['--select', 'good']);
    assert.equal(r.code, 1, r.output);
    assert.match(r.stdout, /3 of 4 ERROR hook: rh\.on-run-start\.2/);
    assert.match(r.stderr, /rh-on-run-start-2 \(\.\/dbt_project\.yml\): rh\.on-run-start\.2 failed, error:\n\s+relation "[^"]*my_hook_table" does not exist/);
    const rr = p.json('target/run_results.json');
    assert.deepEqual(
      rr.results.map((x: { unique_id: string; status: string }) => [x.unique_id, x.status]),
      [
        ['operation.rh.rh-on-run-start-0', 'success'],
        ['operation.rh.rh-on-run-start-1', 'success'],
        ['operation.rh.rh-on-run-start-2', 'error'],
        ['operation.rh.rh-on-run-start-3', 'skipped'],
        ['model.rh.good', 'success'],
        ['operation.rh.rh-on-run-end-0', 'success'],
      ],
    );
    assert.equal(rr.results[3].message, 'rh.on-run-start.3 skipped');
    // the table the skipped hook would have created does not exist; the model was built
    assert.equal((await p.relations()).my_hook_table, undefined);
    assert.equal(await p.count('good'), 1);
    // on-run-end's `results`: the failed hook and the model (dbt: "Num Results in context: 2")
    assert.deepEqual(await p.rows('select n from end_ran'), [{ n: 2 }]);
  });

  it('a failing on-run-end hook fails the invocation (exit 1) after the nodes succeeded', async () => {
    p.write({ 'dbt_project.yml': projectYml('rh', 'on-run-end: "select * from no_such_table_at_end"\n') });
    const r = await p.cli('run', ['--select', 'good']);
    assert.equal(r.code, 1, r.output);
    assert.match(r.stderr, /rh\.on-run-end\.0 failed, error:\n\s+relation "no_such_table_at_end" does not exist/);
    const rr = p.json('target/run_results.json');
    assert.deepEqual(rr.results.map((x: { status: string }) => x.status), ['success', 'error']);
  });

  it('a template error in a hook stops the invocation (exit 2), as dbt\'s CompilationError', async () => {
    p.write({ 'dbt_project.yml': projectYml('rh', 'on-run-start: "{{ exceptions.raise_compiler_error(\'hook refuses\') }}"\n') });
    const r = await p.cli('run', ['--select', 'good']);
    assert.equal(r.code, 2, r.output);
    assert.match(r.stderr, /hook refuses/);
  });

  it('runs the hooks of installed packages first, the root project last', async () => {
    p.write({
      'dbt_project.yml': projectYml(
        'rh',
        `on-run-start:
  - "create table if not exists {{ target.schema }}.order_log (n serial, who text)"
  - "insert into {{ target.schema }}.order_log (who) values ('{{ project_name }}')"
`,
      ),
      // project_name is the ROOT project's name in every context (dbt's docs), so the packages write their own names.
      'dbt_packages/zpkg/dbt_project.yml': projectYml('zpkg', `on-run-start: "insert into {{ target.schema }}.order_log (who) values ('zpkg')"\n`),
      'dbt_packages/apkg/dbt_project.yml': projectYml(
        'apkg',
        `on-run-start:
  - "create table if not exists {{ target.schema }}.order_log (n serial, who text)"
  - "insert into {{ target.schema }}.order_log (who) values ('apkg')"
`,
      ),
    });
    const r = await p.cli('run', ['--select', 'good']);
    assert.equal(r.code, 0, r.output);
    assert.deepEqual(
      (await p.rows<{ who: string }>('select who from order_log order by n')).map((x) => x.who),
      ['apkg', 'zpkg', 'rh'],
    );
    const ids = p.json('target/run_results.json').results.map((x: { unique_id: string }) => x.unique_id);
    assert.deepEqual(ids.slice(0, 5), [
      'operation.apkg.apkg-on-run-start-0',
      'operation.apkg.apkg-on-run-start-1',
      'operation.zpkg.zpkg-on-run-start-0',
      'operation.rh.rh-on-run-start-0',
      'operation.rh.rh-on-run-start-1',
    ]);
  });
});
