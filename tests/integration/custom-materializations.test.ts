/**
 * Issue 11, "custom materializations", through the CLI on both engines: `{% materialization %}`
 * blocks in the project and in a `local:` package become dbt's `materialization_<name>_<adapter>`
 * macros and build models with dbt's materialization context (dbt's ModelRunner.execute calling
 * the macro chosen by find_materialization_macro_by_name).
 */
import { it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { describeEngines, num, Project, projectYml, type Files } from './harness.ts';

/** A table materialization written as dbt-adapters' default one is: intermediate, backup, swap, commit, drop backup. */
const MY_TABLE = `{% materialization my_table, default %}
  {%- set label = config.require('row_label') -%}
  {%- set target_relation = this.incorporate(type='table') -%}
  {%- set existing_relation = load_relation(this) -%}
  {%- set intermediate_relation = make_intermediate_relation(target_relation) -%}
  {%- set backup_relation = make_backup_relation(target_relation, 'table') -%}
  {{ drop_relation_if_exists(intermediate_relation) }}
  {{ drop_relation_if_exists(backup_relation) }}
  {{ run_hooks(pre_hooks, inside_transaction=False) }}
  {{ run_hooks(pre_hooks, inside_transaction=True) }}
  {% call statement('main') -%}
    create table {{ intermediate_relation }} as (select '{{ label }}'::text as label, {{ config.get('factor', 1) }} * id as id from ({{ sql }}) as m)
  {%- endcall %}
  {% if existing_relation is not none %}{{ adapter.rename_relation(existing_relation, backup_relation) }}{% endif %}
  {{ adapter.rename_relation(intermediate_relation, target_relation) }}
  {{ run_hooks(post_hooks, inside_transaction=True) }}
  {% do persist_docs(target_relation, model) %}
  {{ adapter.commit() }}
  {{ drop_relation_if_exists(backup_relation) }}
  {{ run_hooks(post_hooks, inside_transaction=False) }}
  {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}
`;

const PROJECT: Files = {
  'dbt_project.yml': projectYml('cm_proj'),
  'macros/materializations/my_table.sql': MY_TABLE,
  // The root project overrides the built-in `table`: its rows say who built them.
  'macros/materializations/table.sql': `{% materialization table, default %}
  {%- set target_relation = this.incorporate(type='table') -%}
  {{ drop_relation_if_exists(load_relation(this)) }}
  {% call statement('main') -%}
    create table {{ target_relation }} as (select *, 'root table override'::text as built_by from ({{ sql }}) as m)
  {%- endcall %}
  {{ adapter.commit() }}
  {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}
`,
  'models/schema.yml': 'version: 2\nmodels:\n  - name: custom_t\n    description: built by my_table\n    config:\n      persist_docs: {relation: true}\n',
  // An append-only materialization: make_temp_relation, should_full_refresh(), an 'INSERT 0 1' main statement.
  'macros/materializations/append_only.sql': `{% materialization append_only, default %}
  {%- set target_relation = this.incorporate(type='table') -%}
  {%- set existing = load_relation(this) -%}
  {% if existing is none or should_full_refresh() %}
    {{ drop_relation_if_exists(existing) }}
    {% call statement('main') %}create table {{ target_relation }} as ({{ sql }}){% endcall %}
  {% else %}
    {%- set tmp = make_temp_relation(target_relation) -%}
    {% call statement('tmp') %}create temporary table {{ tmp }} as ({{ sql }}){% endcall %}
    {% call statement('main') %}insert into {{ target_relation }} select * from {{ tmp }}{% endcall %}
  {% endif %}
  {{ adapter.commit() }}
  {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}
`,
  'models/appended.sql': "{{ config(materialized='append_only') }}\nselect 1 as id\n",
  'models/custom_t.sql': `{{ config(materialized='my_table', row_label='custom', factor=10,
    pre_hook="create table if not exists {{ this.schema }}.hook_log (what text)",
    post_hook=["insert into {{ this.schema }}.hook_log values ('inside')", {'sql': "insert into {{ this.schema }}.hook_log values ('outside')", 'transaction': False}]) }}
select 1 as id union all select 2 union all select 3
`,
  'models/tabled.sql': "{{ config(materialized='table') }}\nselect id from {{ ref('custom_t') }} where id > 10\n",
  'models/plain_view.sql': "select count(*) as n from {{ ref('custom_t') }}\n",
};

await describeEngines('custom materialization in the project', (engine) => {
  let p: Project;
  let first: { code: number; output: string };

  before(async () => {
    p = await Project.create(engine, PROJECT);
    first = await p.cli('run');
  });
  after(async () => {
    await p?.cleanup();
  });

  it("materialized='my_table' builds the table through statement('main'), config.get/require, and the hooks", async () => {
    assert.equal(first.code, 0, first.output);
    assert.deepEqual(await p.rows('select label, id from custom_t order by id'), [
      { label: 'custom', id: 10 },
      { label: 'custom', id: 20 },
      { label: 'custom', id: 30 },
    ]);
    assert.deepEqual(
      (await p.rows<{ what: string }>('select what from hook_log order by what')).map((r) => r.what),
      ['inside', 'outside'],
    );
    assert.equal((await p.relations()).custom_t, 'table');
    assert.deepEqual(await p.rows(`select obj_description('${p.schema}.custom_t'::regclass) as d`), [{ d: 'built by my_table' }]);
  });

  it("run_results records the 'main' statement's adapter response (SELECT 3)", () => {
    const rr = p.json('target/run_results.json');
    const r = rr.results.find((x: { unique_id: string }) => x.unique_id === 'model.cm_proj.custom_t');
    assert.equal(r.status, 'success');
    assert.equal(r.adapter_response.rows_affected, 3);
    assert.equal(r.adapter_response._message, 'SELECT 3');
  });

  it("a root-project `table` materialization replaces tsdbt's built-in one; views stay built-in", async () => {
    assert.deepEqual(await p.rows('select id, built_by from tabled order by id'), [
      { id: 20, built_by: 'root table override' },
      { id: 30, built_by: 'root table override' },
    ]);
    assert.deepEqual((await p.rows<{ n: unknown }>('select n from plain_view')).map((r) => num(r.n)), [3]);
    assert.equal((await p.relations()).plain_view, 'view');
  });

  it('a second run swaps through the backup relation and leaves no helper relation behind', async () => {
    const again = await p.cli('run', ['--select', 'custom_t']);
    assert.equal(again.code, 0, again.output);
    assert.equal(await p.count('custom_t'), 3);
    // The user's materialization drops the backup with dbt's adapter.drop_relation (cascade): the view that read
    // the old table goes with it, exactly as under dbt (tsdbt's own swap would have kept it).
    assert.deepEqual(Object.keys(await p.relations()).sort(), ['appended', 'custom_t', 'hook_log', 'tabled']);
    assert.equal(await p.count('hook_log'), 4);
  });

  it('an append-only materialization inserts through make_temp_relation; --full-refresh (should_full_refresh()) rebuilds', async () => {
    assert.equal(await p.count('appended'), 1);
    const again = await p.cli('run', ['--select', 'appended']);
    assert.equal(again.code, 0, again.output);
    assert.equal(await p.count('appended'), 2);
    const r = p.json('target/run_results.json').results[0];
    assert.deepEqual([r.adapter_response._message, r.adapter_response.rows_affected], ['INSERT 0 1', 1]);
    const full = await p.cli('run', ['--select', 'appended', '--full-refresh']);
    assert.equal(full.code, 0, full.output);
    assert.equal(await p.count('appended'), 1);
  });
});

const PACKAGE: Files = {
  'dbt_project.yml': projectYml('cm_root', 'flags:\n  require_explicit_package_overrides_for_builtin_materializations: false\n'),
  'packages.yml': 'packages:\n  - local: vendor/obs_pkg\n',
  'models/v1.sql': 'select 1 as id union all select 2\n',
  'vendor/obs_pkg/dbt_project.yml': "name: obs_pkg\nversion: '0.1.0'\nconfig-version: 2\n",
  'vendor/obs_pkg/macros/view.sql': `{% materialization view, adapter='postgres' %}
  {%- set target_relation = this.incorporate(type='view') -%}
  {%- set existing_relation = load_relation(this) -%}
  {{ run_hooks(pre_hooks) }}
  {% call statement('audit_table') -%}
    create table if not exists {{ this.schema }}.view_audit (model text, built_by text)
  {%- endcall %}
  {% if existing_relation is not none %}{{ adapter.drop_relation(existing_relation) }}{% endif %}
  {% call statement('main') -%}
    create view {{ target_relation }} as ({{ sql }})
  {%- endcall %}
  {% call statement('audit') -%}
    insert into {{ this.schema }}.view_audit values ('{{ model.name }}', 'obs_pkg postgres')
  {%- endcall %}
  {{ run_hooks(post_hooks) }}
  {{ adapter.commit() }}
  {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}

{% materialization view, default %}
  {{ exceptions.raise_compiler_error('the default view block of obs_pkg must not be chosen on postgres') }}
{% endmaterialization %}
`,
};

await describeEngines('custom materialization in a package', (engine) => {
  let p: Project;
  let run: { code: number; output: string };

  before(async () => {
    p = await Project.create(engine, PACKAGE);
    const deps = await p.cli('deps');
    assert.equal(deps.code, 0, deps.output);
    run = await p.cli('run');
  });
  after(async () => {
    await p?.cleanup();
  });

  it("the package's postgres-specific `view` block builds the view and writes its audit row; the default block is not chosen", async () => {
    assert.equal(run.code, 0, run.output);
    assert.doesNotMatch(run.output, /must not be chosen/);
    assert.deepEqual(await p.rows('select id from v1 order by id'), [{ id: 1 }, { id: 2 }]);
    assert.equal((await p.relations()).v1, 'view');
    assert.deepEqual(await p.rows('select model, built_by from view_audit'), [{ model: 'v1', built_by: 'obs_pkg postgres' }]);
  });

  it("warns as dbt's PackageMaterializationOverrideDeprecation", () => {
    assert.match(run.output, /Installed package 'obs_pkg' is overriding the built-in materialization 'view'/);
  });

  it('without the legacy flag (dbt ≥ 1.8 default) the package override is not used, and a warning says so', async () => {
    p.write({ 'dbt_project.yml': projectYml('cm_root') });
    const again = await p.cli('run');
    assert.equal(again.code, 0, again.output);
    assert.match(again.output, /Installed package 'obs_pkg' defines the built-in materialization 'view'.*not used/);
    assert.equal(await p.count('view_audit'), 1);
    assert.deepEqual(await p.rows('select id from v1 order by id'), [{ id: 1 }, { id: 2 }]);
  });
});

const FAILING: Files = {
  'dbt_project.yml': projectYml('cm_fail'),
  'models/keep.sql': "{{ config(materialized='table') }}\nselect 1 as id union all select 2\n",
  'macros/broken.sql': `{% materialization broken, default %}
  {% call statement('main') %}delete from {{ this }}{% endcall %}
  {{ exceptions.raise_compiler_error('broken on purpose') }}
  {{ return({'relations': [this]}) }}
{% endmaterialization %}

{% materialization no_return, default %}
  {% call statement('main') %}select 1{% endcall %}
  {{ adapter.commit() }}
{% endmaterialization %}
`,
  'models/nr.sql': "{{ config(materialized='no_return') }}\nselect 1 as id\n",
};

await describeEngines('failing custom materializations', (engine) => {
  let p: Project;

  before(async () => {
    p = await Project.create(engine, FAILING);
  });
  after(async () => {
    await p?.cleanup();
  });

  it('an error inside the materialization names its file and line, exits 1 and leaves the previous table as it was', async () => {
    const ok = await p.cli('run', ['--select', 'keep']);
    assert.equal(ok.code, 0, ok.output);
    p.write({ 'models/keep.sql': "{{ config(materialized='broken') }}\nselect 1 as id union all select 2\n" });
    const r = await p.cli('run', ['--select', 'keep']);
    assert.equal(r.code, 1, r.output);
    assert.match(r.output, /broken on purpose/);
    assert.match(r.output, /macros\/broken\.sql:3/);
    assert.doesNotMatch(r.output, /\n\s+at .*\.ts:\d+/); // no stack trace
    assert.equal(await p.count('keep'), 2);
  });

  it("a materialization that does not return({'relations': [...]}) is an error, as in dbt", async () => {
    const r = await p.cli('run', ['--select', 'nr']);
    assert.equal(r.code, 1, r.output);
    assert.match(r.output, /The materialization \('no_return'\) did not explicitly return a list of relations/);
    assert.match(r.output, /macros\/broken\.sql:7/);
  });
});

const OBSERVED: Files = {
  'dbt_project.yml': projectYml('cm_obs'),
  // The results table exists before any test runs (tests run in parallel on postgres).
  'models/people.sql':
    "{{ config(pre_hook='create table if not exists {{ target.schema }}.test_log (test_name text, failures int)') }}\nselect 1 as id, 'a' as name union all select 2, null union all select 2, 'c'\n",
  'models/schema.yml': `version: 2
models:
  - name: people
    columns:
      - name: id
        data_tests: [not_null]
      - name: name
        data_tests: [not_null]
`,
  // An observability-style override of the built-in \`test\` materialization: wrap dbt's, record the result.
  'macros/test.sql': `{% materialization test, default %}
  {%- set result = dbt.materialization_test_default() -%}
  {%- set row = load_result('main').table.rows[0] -%}
  {% call statement('record') -%}
    insert into {{ target.schema }}.test_log values ('{{ model.name }}', {{ row['failures'] }})
  {%- endcall %}
  {{ adapter.commit() }}
  {{ return(result) }}
{% endmaterialization %}
`,
};

await describeEngines('custom test materialization', (engine) => {
  let p: Project;

  before(async () => {
    p = await Project.create(engine, OBSERVED);
  });
  after(async () => {
    await p?.cleanup();
  });

  it("a root-project `test` materialization wrapping dbt.materialization_test_default records each result; statuses stay dbt's", async () => {
    const r = await p.cli('build');
    assert.equal(r.code, 1, r.output);
    assert.match(r.output, /PASS=2 WARN=0 ERROR=1 SKIP=0 NO-OP=0 TOTAL=3/);
    assert.deepEqual(await p.rows('select test_name, failures from test_log order by test_name'), [
      { test_name: 'not_null_people_id', failures: 0 },
      { test_name: 'not_null_people_name', failures: 1 },
    ]);
  });
});
