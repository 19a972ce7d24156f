/**
 * Compiling against the live database (issue 9), end to end on both engines:
 * macros written here that use dbt's run-time context — the members
 * dbt_utils' star(), get_column_values()/pivot, union_relations() and
 * get_relations_by_pattern() are built on — and the rows the built tables hold.
 *
 * dbt's behaviour followed: a node is compiled just before it runs, with its
 * parents already built (dbt-core's `compile_node` in the runner's
 * `before_execute`/`compile`), so introspection sees the upstream relations;
 * hooks are rendered when they run (dbt's `run_hooks` renders each hook in
 * the materialization), so a post-hook sees the relation just built.
 */
import { it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { describeEngines, Project, projectYml, type Files } from './harness.ts';

const LIVE: Files = {
  'dbt_project.yml': projectYml('live'),
  'seeds/payments.csv': 'id,method,amount\n1,card,10\n2,cash,5\n3,card,7\n4,voucher,1\n',
  'macros/introspection.sql': `
{% macro my_star(rel, except=[]) -%}
  {%- set cols = adapter.get_columns_in_relation(rel) -%}
  {%- for c in cols if c.name not in except -%}{{ c.quoted }}{{ ', ' if not loop.last }}{%- endfor -%}
{%- endmacro %}

{% macro column_values(rel, col) -%}
  {%- set q -%}select distinct {{ col }} from {{ rel }} order by 1{%- endset -%}
  {%- set r = run_query(q) -%}
  {%- if execute -%}{{ return(r.columns[0].values()) }}{%- else -%}{{ return([]) }}{%- endif -%}
{%- endmacro %}

{% macro relations_like(prefix) -%}
  {%- set found = [] -%}
  {%- for r in adapter.list_relations_without_caching(api.Relation.create(database=target.database, schema=target.schema)) -%}
    {%- if r.identifier.startswith(prefix) -%}{%- do found.append(r) -%}{%- endif -%}
  {%- endfor -%}
  {{ return(found | sort(attribute='identifier')) }}
{%- endmacro %}

{% macro record_count() -%}
  {%- call statement('rows', fetch_result=True) -%}select count(*) as n from {{ this }}{%- endcall -%}
  {%- set n = load_result('rows')['data'][0][0] if execute else 0 -%}
  insert into {{ target.schema }}.audit (model, n) values ('{{ this.name }}', {{ n }})
{%- endmacro %}
`,
  'models/starred.sql': "{{ config(materialized='table') }}\nselect {{ my_star(ref('payments'), except=['amount']) }} from {{ ref('payments') }}\n",
  'models/pivoted.sql': `{{ config(materialized='table') }}
select
{%- for m in column_values(ref('payments'), 'method') %}
  sum(case when method = '{{ m }}' then amount else 0 end) as {{ m }}_amount{{ ',' if not loop.last }}
{%- endfor %}
from {{ ref('payments') }}
`,
  'models/events_a.sql': "{{ config(materialized='table') }}\nselect 1 as id, 'a' as src\n",
  'models/events_b.sql': "{{ config(materialized='table') }}\nselect 2 as id, 'b' as src union all select 3, 'b'\n",
  'models/unioned.sql': `-- depends_on: {{ ref('events_a') }}
-- depends_on: {{ ref('events_b') }}
{{ config(materialized='table') }}
{%- set rels = relations_like('events_') %}
{%- for r in rels %}
select id, src, '{{ r.identifier }}' as from_relation from {{ r }}{{ ' union all' if not loop.last }}
{%- endfor %}
{%- if not rels %}select null::int as id, null::text as src, null::text as from_relation where false{% endif %}
`,
  'models/counted.sql': `{{ config(materialized='table',
    pre_hook="create table if not exists {{ target.schema }}.audit (model text, n int)",
    post_hook="{{ record_count() }}") }}
select id from {{ ref('payments') }} where amount > 4
`,
  'models/spine.sql': "{{ config(materialized='table') }}\n{{ dbt.date_spine('day', \"'2024-01-01'::date\", \"'2024-01-05'::date\") }}\n",
  'models/about_graph.sql': `{{ config(materialized='table') }}
{%- set models = graph.nodes.values() | selectattr('resource_type', 'equalto', 'model') | list %}
select {{ models | length }} as n_models,
       '{{ run_started_at.strftime('%Y') }}' as year,
       {{ 'true' if 'model.live.about_graph' in selected_resources else 'false' }} as selected_self
`,
};

await describeEngines('compile against the live database', (engine) => {
  let p: Project;
  before(async () => {
    p = await Project.create(engine, LIVE);
  });
  after(async () => {
    await p?.cleanup();
  });

  it('builds every model from what the database holds when each compiles', async () => {
    const r = await p.cli('build');
    assert.equal(r.code, 0, r.output);
  });

  it('a star()-like macro lists the parent relation columns (adapter.get_columns_in_relation)', async () => {
    const cols = await p.rows<{ column_name: string }>(`select column_name from information_schema.columns where table_schema = '${p.schema}' and table_name = 'starred' order by ordinal_position`);
    assert.deepEqual(cols.map((c) => c.column_name), ['id', 'method']);
    assert.equal(await p.count('starred'), 4);
  });

  it('a get_column_values()-like pivot reads distinct values with run_query', async () => {
    const rows = await p.rows<Record<string, unknown>>('select card_amount, cash_amount, voucher_amount from pivoted');
    assert.deepEqual(rows.map((r) => Object.values(r).map(Number)), [[17, 5, 1]]);
  });

  it('a union of relations found by pattern (list_relations_without_caching, api.Relation.create)', async () => {
    const rows = await p.rows<{ id: number; src: string; from_relation: string }>('select id, src, from_relation from unioned order by id');
    assert.deepEqual(rows, [
      { id: 1, src: 'a', from_relation: 'events_a' },
      { id: 2, src: 'b', from_relation: 'events_b' },
      { id: 3, src: 'b', from_relation: 'events_b' },
    ]);
  });

  it('a post-hook using statement + load_result sees the table it follows', async () => {
    const rows = await p.rows<{ model: string; n: number }>('select model, n from audit');
    assert.deepEqual(rows, [{ model: 'counted', n: 3 }]);
  });

  it('graph.nodes, selected_resources and run_started_at.strftime render', async () => {
    const rows = await p.rows<{ n_models: number; year: string; selected_self: boolean }>('select n_models, year, selected_self from about_graph');
    assert.deepEqual(rows, [{ n_models: 8, year: String(new Date().getUTCFullYear()), selected_self: true }]);
  });

  it("dbt.date_spine asks the database how many intervals (run_query) and gives dbt's rows (end exclusive)", async () => {
    const rows = await p.rows<{ d: string }>("select to_char(date_day, 'YYYY-MM-DD') as d from spine order by 1");
    assert.deepEqual(rows.map((r) => r.d), ['2024-01-01', '2024-01-02', '2024-01-03', '2024-01-04']);
  });

  it('tsdbt compile connects and compiles such nodes too, printing the SQL of one', async () => {
    const r = await p.cli('compile', ['--select', 'pivoted']);
    assert.equal(r.code, 0, r.output);
    assert.match(r.stdout, /sum\(case when method = 'card' then amount else 0 end\) as card_amount,/);
    assert.match(p.read('target/compiled/live/models/unioned.sql') ?? '', /from "[^"]+"\."[^"]+"\."events_b"/);
  });

  it('tsdbt show compiles against the database and prints rows', async () => {
    const r = await p.cli('show', ['--select', 'starred', '--limit', '2']);
    assert.equal(r.code, 0, r.output);
    assert.match(r.stdout, /method/);
  });

  it('a database error inside a template fails that node only, naming it; downstream is skipped', async () => {
    p.write({
      'models/pivoted.sql': "{{ config(materialized='table') }}\n{% set r = run_query('select no_such_column from ' ~ ref('payments')) %}\nselect 1 as x\n",
      'models/after_pivot.sql': "select * from {{ ref('pivoted') }}\n",
    });
    const r = await p.cli('run');
    assert.equal(r.code, 1, r.output);
    assert.match(r.output, /no_such_column/);
    assert.match(r.output, /pivoted/);
    assert.match(r.output, /SKIP/);
    // the previous pivoted table is intact
    assert.deepEqual((await p.rows<Record<string, unknown>>('select card_amount from pivoted')).map((x) => Number(x.card_amount)), [17]);
  });
});

const OSC_MODEL = (mode: string) => `{{ config(materialized='incremental', unique_key='id', on_schema_change='${mode}') }}
select * from {{ ref('src') }}
{% if is_incremental() %}
  {%- set existing = adapter.get_columns_in_relation(this) | map(attribute='name') | list %}
  -- existing columns: {{ existing | join(', ') }}
  where id > (select coalesce(max(id), 0) from {{ this }})
{% endif %}
`;

await describeEngines('incremental models see the live relation (on_schema_change)', (engine) => {
  let p: Project;
  before(async () => {
    p = await Project.create(engine, {
      'dbt_project.yml': projectYml('osc'),
      'models/src.sql': "{{ config(materialized='table') }}\nselect 1 as id, 'x' as a\n",
      'models/osc_ignore.sql': OSC_MODEL('ignore'),
      'models/osc_fail.sql': OSC_MODEL('fail'),
      'models/osc_append.sql': OSC_MODEL('append_new_columns'),
      'models/osc_sync.sql': OSC_MODEL('sync_all_columns'),
    });
  });
  after(async () => {
    await p?.cleanup();
  });

  it('first build, then a column is added upstream and new rows arrive', async () => {
    let r = await p.cli('run');
    assert.equal(r.code, 0, r.output);
    p.write({ 'models/src.sql': "{{ config(materialized='table') }}\nselect 1 as id, 'x' as a, 10 as b union all select 2, 'y', 20\n" });
    r = await p.cli('run');
    assert.equal(r.code, 1, r.output); // osc_fail fails, the others succeed
    assert.match(r.output, /osc_fail/);
    assert.match(p.read('target/compiled/osc/models/osc_sync.sql') ?? '', /-- existing columns: id, a/);
  });

  it('ignore keeps the old columns and adds the rows', async () => {
    assert.deepEqual(await p.rows('select * from osc_ignore order by id'), [{ id: 1, a: 'x' }, { id: 2, a: 'y' }]);
  });

  it('fail leaves the table as it was', async () => {
    assert.deepEqual(await p.rows('select * from osc_fail order by id'), [{ id: 1, a: 'x' }]);
  });

  it('append_new_columns adds the column (old rows null)', async () => {
    assert.deepEqual(await p.rows('select id, a, b from osc_append order by id'), [{ id: 1, a: 'x', b: null }, { id: 2, a: 'y', b: 20 }]);
  });

  it('sync_all_columns adds the column too', async () => {
    assert.deepEqual(await p.rows('select id, a, b from osc_sync order by id'), [{ id: 1, a: 'x', b: null }, { id: 2, a: 'y', b: 20 }]);
  });
});
