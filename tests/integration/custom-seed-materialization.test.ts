/**
 * Issue 11, "a project or package may override a built-in materialization": a project's own
 * `{% materialization seed, default %}` runs for `tsdbt seed` with dbt's seed materialization context
 * (dbt's SeedRunner calls materialization_seed_* with `load_agate_table()`), and the helpers dbt's default
 * seed materialization calls (create_csv_table, reset_csv_table, load_csv_rows, get_csv_sql,
 * get_binding_char, get_batch_size, noop_statement, create_indexes) exist. The override below is
 * dbt-adapters' default seed materialization with one change: it writes an audit row before the commit.
 * A user-defined `snapshot` materialization is still refused with [unsupported].
 */
import { it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { describeEngines, num, Project, projectYml, type Files } from './harness.ts';

/** dbt-adapters' materializations/seeds/seed.sql (default), plus the audit insert. */
const SEED_OVERRIDE = `{% materialization seed, default %}
  {%- set identifier = model['alias'] -%}
  {%- set full_refresh_mode = (should_full_refresh()) -%}
  {%- set old_relation = adapter.get_relation(database=database, schema=schema, identifier=identifier) -%}
  {%- set exists_as_table = (old_relation is not none and old_relation.is_table) -%}
  {%- set exists_as_view = (old_relation is not none and old_relation.is_view) -%}
  {%- set grant_config = config.get('grants') -%}
  {%- set agate_table = load_agate_table() -%}
  {%- do store_result('agate_table', response='OK', agate_table=agate_table) -%}

  {{ run_hooks(pre_hooks, inside_transaction=False) }}
  {{ run_hooks(pre_hooks, inside_transaction=True) }}

  {% set create_table_sql = "" %}
  {% if exists_as_view %}
    {{ exceptions.raise_compiler_error("Cannot seed to '{}', it is a view".format(old_relation)) }}
  {% elif exists_as_table %}
    {% set create_table_sql = reset_csv_table(model, full_refresh_mode, old_relation, agate_table) %}
  {% else %}
    {% set create_table_sql = create_csv_table(model, agate_table) %}
  {% endif %}

  {% set code = 'CREATE' if full_refresh_mode else 'INSERT' %}
  {% set rows_affected = (agate_table.rows | length) %}
  {% set sql = load_csv_rows(model, agate_table) %}

  {% call noop_statement('main', code ~ ' ' ~ rows_affected, code, rows_affected) %}
    {{ get_csv_sql(create_table_sql, sql) }};
  {% endcall %}

  {% set target_relation = this.incorporate(type='table') %}
  {% set should_revoke = should_revoke(old_relation, full_refresh_mode) %}
  {% do apply_grants(target_relation, grant_config, should_revoke=should_revoke) %}
  {% do persist_docs(target_relation, model) %}
  {% if full_refresh_mode or not exists_as_table %}
    {% do create_indexes(target_relation) %}
  {% endif %}

  {{ run_hooks(post_hooks, inside_transaction=True) }}

  {#- the change: one audit row per load, in the same transaction as the rows -#}
  {% call statement('audit') %}
    create table if not exists {{ target.schema }}.seed_audit (seed_name text, row_count int, column_types text);
    insert into {{ target.schema }}.seed_audit values ('{{ this.identifier }}', {{ rows_affected }}, '{{ agate_table.column_types | join(",") }}')
  {% endcall %}

  {{ adapter.commit() }}
  {{ run_hooks(post_hooks, inside_transaction=False) }}
  {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}
`;

const PROJECT: Files = {
  'dbt_project.yml': projectYml('csm_proj'),
  'macros/materializations/seed.sql': SEED_OVERRIDE,
  // integer, text with a quote and an empty (NULL) field, boolean, date
  'seeds/people.csv': "id,name,active,joined\n1,Ann,true,2024-01-05\n2,O'Brien,false,2024-02-29\n3,,TRUE,\n",
};

await describeEngines('a user-defined seed materialization (dbt SeedRunner + materialization_seed_default)', (engine) => {
  let p: Project;

  before(async () => {
    p = await Project.create(engine, PROJECT);
  });
  after(async () => {
    await p?.cleanup();
  });

  it('loads the CSV with the inferred column types and writes its audit row', async () => {
    const r = await p.cli('seed');
    assert.equal(r.code, 0, r.output);
    // the noop_statement('main', 'INSERT 3', …) response, as dbt prints it
    assert.match(r.output, /\[INSERT 3 in /);
    const rows = await p.rows<{ id: unknown; name: string | null; active: boolean; joined: string | null }>(
      `select id, name, active, joined::text as joined from ${p.schema}.people order by id`,
    );
    assert.deepEqual(
      rows.map((x) => [num(x.id), x.name, x.active, x.joined]),
      [
        [1, 'Ann', true, '2024-01-05'],
        [2, "O'Brien", false, '2024-02-29'],
        [3, null, true, null],
      ],
    );
    const types = await p.rows<{ column_name: string; data_type: string }>(
      `select column_name, data_type from information_schema.columns where table_schema = '${p.schema}' and table_name = 'people' order by ordinal_position`,
    );
    assert.deepEqual(types.map((t) => `${t.column_name}:${t.data_type}`), ['id:integer', 'name:text', 'active:boolean', 'joined:date']);
    const audit = await p.rows<{ seed_name: string; row_count: unknown; column_types: string }>(`select * from ${p.schema}.seed_audit`);
    assert.deepEqual(audit.map((a) => [a.seed_name, num(a.row_count), a.column_types]), [['people', 3, 'Number,Text,Boolean,Date']]);
  });

  it('a second seed truncates and reloads the existing table (reset_csv_table), adding a second audit row', async () => {
    p.write({ 'seeds/people.csv': 'id,name,active,joined\n7,Zed,false,2025-03-01\n' });
    const r = await p.cli('seed');
    assert.equal(r.code, 0, r.output);
    const rows = await p.rows<{ id: unknown; name: string }>(`select id, name from ${p.schema}.people`);
    assert.deepEqual(rows.map((x) => [num(x.id), x.name]), [[7, 'Zed']]);
    const audit = await p.rows<{ row_count: unknown }>(`select row_count from ${p.schema}.seed_audit order by row_count`);
    assert.deepEqual(audit.map((a) => num(a.row_count)), [1, 3]);
  });

  it('with --full-refresh the table is dropped and created again (column_types applies)', async () => {
    p.write({ 'dbt_project.yml': projectYml('csm_proj', "seeds:\n  csm_proj:\n    people:\n      +column_types: {id: bigint}\n") });
    const r = await p.cli('seed', ['--full-refresh']);
    assert.equal(r.code, 0, r.output);
    const types = await p.rows<{ data_type: string }>(
      `select data_type from information_schema.columns where table_schema = '${p.schema}' and table_name = 'people' and column_name = 'id'`,
    );
    assert.equal(types[0]?.data_type, 'bigint');
    assert.equal(await p.count(`${p.schema}.people`), 1);
    assert.equal(await p.count(`${p.schema}.seed_audit`), 3);
  });
});

const SNAPSHOT: Files = {
  'dbt_project.yml': projectYml('csm_snap'),
  'models/src.sql': 'select 1 as id, now() as updated_at\n',
  'snapshots/snap.sql': "{% snapshot snap %}\n{{ config(target_schema=target.schema, unique_key='id', strategy='timestamp', updated_at='updated_at') }}\nselect * from {{ ref('src') }}\n{% endsnapshot %}\n",
  'macros/snapshot.sql': "\n{% materialization snapshot, default %}{{ return({'relations': []}) }}{% endmaterialization %}\n",
};

await describeEngines('a user-defined snapshot materialization', (engine) => {
  let p: Project;

  before(async () => {
    p = await Project.create(engine, SNAPSHOT);
  });
  after(async () => {
    await p?.cleanup();
  });

  it('is refused with [unsupported], its file and line, never silently replaced by the built-in', async () => {
    const r = await p.cli('build');
    assert.equal(r.code, 1, r.output);
    assert.match(r.output, /macros\/snapshot\.sql:2 .*\[unsupported\] snapshot snap: the user-defined materialization 'materialization_snapshot_default'/);
    assert.equal((await p.relations()).snap, undefined);
  });
});
