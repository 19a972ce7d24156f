/**
 * `tsdbt run-operation`, end to end on both engines, as dbt's RunOperationTask:
 * keyword arguments from `--args` (YAML or JSON), statements committed, `log(…, info=True)`
 * shown, a macro error → "Encountered an error while running operation: …" and exit 1,
 * an unknown macro → exit 2 with the closest names, `package.macro` for installed
 * packages, run_results.json with one result named after the macro.
 */
import { it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { describeEngines, Project, projectYml, type Files } from './harness.ts';
import { runOperation } from '../../src/index.ts';

const FILES: Files = {
  'dbt_project.yml': projectYml('ro'),
  'macros/ops.sql': `{% macro make_table(name, n=1) %}
  {% do run_query('create table ' ~ target.schema ~ '.' ~ name ~ ' as select generate_series(1, ' ~ n ~ ') as i') %}
  {% set c = run_query('select count(*) as c from ' ~ target.schema ~ '.' ~ name).columns[0].values()[0] %}
  {{ log('made ' ~ name ~ ' with ' ~ c ~ ' rows', info=True) }}
  {{ log('only with --debug') }}
{% endmacro %}

{% macro refuse() %}
  {{ exceptions.raise_compiler_error('refusing on purpose') }}
{% endmacro %}

{% macro bad_sql() %}
  {% do run_query('select * from no_such_table_for_op') %}
{% endmacro %}
`,
  'models/m.sql': 'select 1 as id\n',
  'dbt_packages/opspkg/dbt_project.yml': projectYml('opspkg'),
  'dbt_packages/opspkg/macros/hello.sql': `{% macro hello(who='world') %}
  {% do run_query("create table " ~ target.schema ~ ".greeting as select 'hello " ~ who ~ "' as g") %}
{% endmacro %}
`,
};

await describeEngines('run-operation', (engine) => {
  let p: Project;
  before(async () => {
    p = await Project.create(engine, FILES);
    // run-operation creates no schema (as dbt): the macros write into the target schema
    await p.query(`create schema if not exists "${p.schema}"`);
  });
  after(async () => {
    await p?.cleanup();
  });

  it('calls a project macro with YAML --args; its statements are committed and log(info=True) is shown', async () => {
    const r = await p.cli('run-operation', ['make_table', '--args', '{name: t1, n: 3}']);
    assert.equal(r.code, 0, r.output);
    assert.match(r.stdout, /made t1 with 3 rows/);
    assert.doesNotMatch(r.output, /only with --debug/);
    assert.equal(await p.count('t1'), 3);
    const rr = p.json('target/run_results.json');
    assert.equal(rr.results.length, 1);
    assert.equal(rr.results[0].unique_id, 'macro.ro.make_table');
    assert.equal(rr.results[0].status, 'success');
    assert.equal(rr.args.which, 'run-operation');
  });

  it('takes JSON --args and uses the macro defaults', async () => {
    const r = await p.cli('run-operation', ['make_table', '--args', '{"name": "t2"}']);
    assert.equal(r.code, 0, r.output);
    assert.equal(await p.count('t2'), 1);
  });

  it("calls an installed package's macro as package.macro", async () => {
    const r = await p.cli('run-operation', ['opspkg.hello', '--args', '{who: tsdbt}']);
    assert.equal(r.code, 0, r.output);
    assert.deepEqual(await p.rows('select g from greeting'), [{ g: 'hello tsdbt' }]);
    assert.equal(p.json('target/run_results.json').results[0].unique_id, 'macro.opspkg.hello');
  });

  it('a macro that raises is an error: message, exit 1, status error in run_results.json', async () => {
    const r = await p.cli('run-operation', ['refuse']);
    assert.equal(r.code, 1, r.output);
    assert.match(r.stderr, /Encountered an error while running operation: .*refusing on purpose/s);
    const res = p.json('target/run_results.json').results[0];
    assert.equal(res.status, 'error');
    assert.match(res.message, /refusing on purpose/);
  });

  it("a failing statement is an error with the database's message, exit 1", async () => {
    const r = await p.cli('run-operation', ['bad_sql']);
    assert.equal(r.code, 1, r.output);
    assert.match(r.stderr, /Encountered an error while running operation: [\s\S]*relation "no_such_table_for_op" does not exist/);
  });

  it('an unknown macro is a usage error naming the closest ones (exit 2)', async () => {
    const r = await p.cli('run-operation', ['make_tabel']);
    assert.equal(r.code, 2, r.output);
    assert.match(r.stderr, /could not find a macro named 'make_tabel' in any package/);
    assert.match(r.stderr, /did you mean 'make_table'/);
    const r2 = await p.cli('run-operation', ['nopkg.hello']);
    assert.equal(r2.code, 2, r2.output);
    assert.match(r2.stderr, /could not find a macro named 'nopkg\.hello' in package 'nopkg'/);
  });

  it('the programmatic API runOperation() does the same', async () => {
    const r = await runOperation('make_table', { name: 't3', n: 2 }, { projectDir: p.dir, profilesDir: p.dir });
    assert.equal(r.exitCode, 0);
    assert.equal(r.results?.results[0].unique_id, 'macro.ro.make_table');
    assert.equal(await p.count('t3'), 2);
    const bad = await runOperation('refuse', {}, { projectDir: p.dir, profilesDir: p.dir });
    assert.equal(bad.success, false);
    assert.equal(bad.results?.results[0].status, 'error');
  });

  it('--args that is not a mapping is a usage error (exit 2)', async () => {
    const r = await p.cli('run-operation', ['make_table', '--args', '[1, 2]']);
    assert.equal(r.code, 2, r.output);
    assert.match(r.stderr, /--args must be a mapping/);
  });
});
