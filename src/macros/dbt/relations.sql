{#- DDL text for tables and views (dbt's relations/table/create.sql, relations/view/create.sql
    and dbt-postgres's postgres__create_table_as). `relation` is a Relation (it renders as
    "db"."schema"."name"); `sql` is the model's compiled select. Reads the node's config:
    sql_header, unlogged (Postgres) and contract. -#}

{% macro get_create_table_as_sql(temporary, relation, sql) -%}
  {{- adapter.dispatch('get_create_table_as_sql', 'dbt')(temporary, relation, sql) -}}
{%- endmacro %}

{% macro default__get_create_table_as_sql(temporary, relation, sql) -%}
  {{- return(create_table_as(temporary, relation, sql)) -}}
{%- endmacro %}

{#- The older name, kept by dbt for packages that call or override it. -#}
{% macro create_table_as(temporary, relation, compiled_code, language='sql') -%}
  {%- if language != 'sql' -%}
    {{- exceptions.raise_compiler_error("[unsupported] create_table_as for " ~ language ~ " models: tsdbt builds SQL models only") -}}
  {%- endif -%}
  {{- adapter.dispatch('create_table_as', 'dbt')(temporary, relation, compiled_code) -}}
{%- endmacro %}

{#- An enforced contract needs the model's columns from the database (dbt's
    get_assert_columns_equivalent): not available while rendering in tsdbt yet. -#}
{% macro _tsdbt_no_enforced_contract(relation) -%}
  {%- set contract = config.get('contract') -%}
  {%- if contract and contract.enforced -%}
    {{- exceptions.raise_compiler_error("[unsupported] contract: {enforced: true} on " ~ relation ~ ": tsdbt cannot check model contracts in create_table_as / create_view_as yet") -}}
  {%- endif -%}
{%- endmacro %}

{% macro default__create_table_as(temporary, relation, sql) -%}
  {%- set sql_header = config.get('sql_header', none) -%}
  {{- _tsdbt_no_enforced_contract(relation) -}}
{{ sql_header if sql_header is not none }}
create {% if temporary %}temporary {% endif %}table {{ relation.include(database=(not temporary), schema=(not temporary)) }}
as (
{{ sql }}
);
{%- endmacro %}

{#- Postgres: `unlogged: true` builds an unlogged table; a temporary table is never unlogged. -#}
{% macro postgres__create_table_as(temporary, relation, sql) -%}
  {%- set unlogged = config.get('unlogged', false) -%}
  {%- set sql_header = config.get('sql_header', none) -%}
  {{- _tsdbt_no_enforced_contract(relation) -}}
{{ sql_header if sql_header is not none }}
create {% if temporary %}temporary {% elif unlogged %}unlogged {% endif %}table {{ relation }}
as (
{{ sql }}
);
{%- endmacro %}

{% macro get_create_view_as_sql(relation, sql) -%}
  {{- adapter.dispatch('get_create_view_as_sql', 'dbt')(relation, sql) -}}
{%- endmacro %}

{% macro default__get_create_view_as_sql(relation, sql) -%}
  {{- return(create_view_as(relation, sql)) -}}
{%- endmacro %}

{% macro create_view_as(relation, sql) -%}
  {{- adapter.dispatch('create_view_as', 'dbt')(relation, sql) -}}
{%- endmacro %}

{% macro default__create_view_as(relation, sql) -%}
  {%- set sql_header = config.get('sql_header', none) -%}
  {{- _tsdbt_no_enforced_contract(relation) -}}
{{ sql_header if sql_header is not none }}
create view {{ relation.render() }}
as (
{{ sql }}
);
{%- endmacro %}
