/**
 * Every member of dbt's documented Jinja context ("dbt Jinja functions"
 * reference, dbt-core 1.latest's `ProviderContext` / `ModelContext`) either
 * works in a model at run time, with the value dbt gives on Postgres, or
 * raises `[unsupported] <name>` at the file and line — nothing returns an
 * empty stand-in. The on-run-end members (`results`, `schemas`,
 * `database_schemas`) exist only in that hook's context and are out of scope here.
 */
import { it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { describeEngines, Project, projectYml, type Files } from './harness.ts';

/** member → [model SQL, what its compiled SQL must contain]. */
const WORKS: Record<string, [string, RegExp]> = {
  adapter: ["select '{{ adapter.type() }}' as v, '{{ adapter.quote('a b') }}' as q", /select 'postgres' as v, '"a b"' as q/],
  'adapter.get_relation': ["select '{{ adapter.get_relation(database=target.database, schema=target.schema, identifier='base').type }}' as v", /'table' as v/],
  'adapter.get_columns_in_relation': ["select '{{ adapter.get_columns_in_relation(ref('base')) | map(attribute='data_type') | join(',') }}' as v", /'integer,text' as v/],
  'adapter.get_missing_columns': ["select '{{ adapter.get_missing_columns(ref('base'), ref('base')) | length }}' as v", /'0' as v/],
  'adapter.already_exists': ["select {{ adapter.already_exists(target.schema, 'base') }} as v", /select True as v/],
  'adapter.list_relations_without_caching': [
    "select '{{ adapter.list_relations_without_caching(api.Relation.create(schema=target.schema)) | map(attribute='identifier') | select('equalto', 'base') | list | length }}' as v",
    /'1' as v/,
  ],
  'adapter.get_columns_in_query': ["select '{{ adapter.get_columns_in_query('select 1 as a, 2 as b') | join(',') }}' as v", /'a,b' as v/],
  'adapter.dispatch': ["select '{{ adapter.dispatch('noop_macro')() }}' as v", /'pg' as v/],
  api: ["select '{{ api.Relation.create(schema='s', identifier='t').include(database=false) }}' as v, '{{ api.Column.create('c', 'STRING').data_type }}' as t", /'"s"\."t"' as v, 'TEXT' as t/],
  builtins: ["select '{{ builtins.ref('base').identifier }}' as v", /'base' as v/],
  config: ["{{ config(tags=['x']) }}select '{{ config.get('materialized') }}' as v", /'view' as v/],
  dbt_version: ["select '{{ dbt_version }}' as v", /'\d+\.\d+\.\d+' as v/],
  env_var: ["select '{{ env_var('TSDBT_CTX_TEST', 'dflt') }}' as v", /'dflt' as v/],
  exceptions: ["select '{{ exceptions.warn('careful') }}ok' as v", /'ok' as v/],
  execute: ["select {{ execute }} as v", /select True as v/],
  flags: ["select {{ flags.FULL_REFRESH }} as v", /select False as v/],
  fromjson: ["select '{{ fromjson('{\"a\": 2}')['a'] }}' as v", /'2' as v/],
  fromyaml: ["select '{{ fromyaml('a: 3')['a'] }}' as v", /'3' as v/],
  graph: ["select '{{ graph.nodes['model.ctx.base'].resource_type }}' as v", /'model' as v/],
  invocation_id: ["select '{{ invocation_id | length }}' as v", /'36' as v/],
  load_relation: ["select '{{ load_relation(ref('base')).is_table }}' as v", /'True' as v/],
  load_result: ["{% call statement('s', fetch_result=True) %}select 41 + 1 as n{% endcall %}select '{{ load_result('s')['data'][0][0] }}' as v", /'42' as v/],
  local_md5: ["select '{{ local_md5('a') }}' as v", /'0cc175b9c0f1b6a831c399e269772661' as v/],
  log: ["select '{{ log('hello', info=True) }}x' as v", /'x' as v/],
  model: ["select '{{ model.unique_id }}' as v", /'model\.ctx\.m_model' as v/],
  modules: ["select '{{ modules.datetime.date(2024, 1, 2).isoformat() }} {{ modules.re.sub('a', 'b', 'aa') }}' as v", /'2024-01-02 bb' as v/],
  print: ["select '{{ print('hi') }}x' as v", /'x' as v/],
  project_name: ["select '{{ project_name }}' as v", /'ctx' as v/],
  ref: ["select * from {{ ref('base') }}", /from "[^"]+"\."[^"]+"\."base"/],
  return: ["select '{{ returns_five() }}' as v", /'5' as v/],
  run_query: ["select '{{ run_query('select 7 as n').columns[0].values()[0] }}' as v", /'7' as v/],
  run_started_at: ["select '{{ run_started_at.strftime('%Y') }}' as v", /'\d{4}' as v/],
  schema: ["select '{{ schema }}' as v", /'ctx_[a-z0-9_]+' as v|'[a-z0-9_]+' as v/],
  selected_resources: ["select '{{ 'model.ctx.m_selected_resources' in selected_resources }}' as v", /'True' as v/],
  set: ["select '{{ set([1, 1, 2]) | length }}' as v", /'2' as v/],
  source: ["select * from {{ source('raw', 'base_src') }}", /from "[^"]+"\."[^"]+"\."base"/],
  statement: ["{% call statement('x') %}select 1{% endcall %}select 1 as v", /select 1 as v/],
  store_result: ["{% do store_result('k', response='OK') %}select '{{ load_result('k').response }}' as v", /'OK' as v/],
  target: ["select '{{ target.type }}' as v", /'postgres' as v/],
  this: ["select '{{ this.identifier }}' as v", /'m_this' as v/],
  thread_id: ["select '{{ thread_id }}' as v", /'Thread-\d+' as v/],
  tojson: ["select '{{ tojson({'a': 1}) }}' as v", /'\{"a": 1\}' as v/],
  toyaml: ["select '{{ toyaml({'a': 1}) | trim }}' as v", /'a: 1' as v/],
  try_or_compiler_error: ["select '{{ try_or_compiler_error('bad', fromjson, '{\"a\": 1}')['a'] }}' as v", /'1' as v/],
  var: ["select '{{ var('ctx_var', 'dv') }}' as v", /'dv' as v/],
  zip: ["select '{{ zip([1, 2], ['a', 'b']) | list | length }}' as v", /'2' as v/],
  is_incremental: ["select {{ is_incremental() }} as v", /select False as v/],
  write: ["select '{{ write('x') }}w' as v", /'w' as v/],
};

/** dbt context members tsdbt does not implement: each must fail at parse, naming itself and the line. */
const UNSUPPORTED = ['submit_python_job', 'debug', 'adapter.get_rows_different_sql', 'adapter.calculate_freshness'];

function files(): Files {
  const f: Files = {
    'dbt_project.yml': projectYml('ctx'),
    'models/base.sql': "{{ config(materialized='table') }}\nselect 1 as id, 'a'::text as name\n",
    'models/sources.yml': 'version: 2\nsources:\n  - name: raw\n    schema: "{{ target.schema }}"\n    tables:\n      - name: base_src\n        identifier: base\n',
    'macros/helpers.sql':
      '{% macro returns_five() %}{{ return(5) }}{% endmacro %}\n{% macro noop_macro() %}{{ return(adapter.dispatch("noop_macro")()) }}{% endmacro %}\n{% macro default__noop_macro() %}default{% endmacro %}\n{% macro postgres__noop_macro() %}pg{% endmacro %}\n',
  };
  for (const [name, [sql]] of Object.entries(WORKS)) {
    const needsBase = /ref\('base'\)|'base'|base_src|model\.ctx\.base/.test(sql) && !/^select \* from \{\{ ref\('base'\) \}\}$/.test(sql);
    f[`models/m_${name.replace(/\./g, '_')}.sql`] = (needsBase ? "-- depends_on: {{ ref('base') }}\n" : '') + sql + '\n';
  }
  return f;
}

await describeEngines('dbt context members: each works or says [unsupported]', (engine) => {
  let p: Project;
  before(async () => {
    p = await Project.create(engine, files());
  });
  after(async () => {
    await p?.cleanup();
  });

  it('every supported member renders what dbt renders on Postgres (models built, then compiled)', async () => {
    const r = await p.cli('run');
    assert.equal(r.code, 0, r.output);
    const wrong: string[] = [];
    for (const [name, [, expected]] of Object.entries(WORKS)) {
      const file = `target/compiled/ctx/models/m_${name.replace(/\./g, '_')}.sql`;
      const sql = p.read(file) ?? '(missing)';
      if (!expected.test(sql)) wrong.push(`${name}: ${sql.trim()}`);
    }
    assert.deepEqual(wrong, []);
  });

  it('every unsupported member fails the parse at its file and line with [unsupported], exit 2, nothing run', async () => {
    const bad: Files = {};
    for (const name of UNSUPPORTED) bad[`models/u_${name.replace(/\./g, '_')}.sql`] = `select 1 as a,\n  {{ ${name}() }} as v\n`;
    p.write(bad);
    const r = await p.cli('run');
    assert.equal(r.code, 2, r.output);
    for (const name of UNSUPPORTED) {
      assert.match(r.output, new RegExp(`models/u_${name.replace(/\./g, '_')}\\.sql:2:\\d+ \\[unsupported\\] \\[unsupported\\] ${name.replace('.', '\\.')} is not supported yet|models/u_${name.replace(/\./g, '_')}\\.sql:2:\\d+.*\\[unsupported\\] ${name.replace('.', '\\.')} is not supported yet`), r.output);
    }
    assert.doesNotMatch(r.output, /Traceback|    at /);
  });
});
