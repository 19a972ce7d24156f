{#- SQL text of incremental strategies (dbt's materializations/models/incremental/merge.sql,
    strategies.sql and column_helpers.sql, with dbt-postgres's default strategy).
    `target` / `source` are relations (or their SQL text); `dest_columns` are columns of the
    target as dbt's Column objects: `.name` (and `.quoted`, `.column` for merge). -#}

{#- The column names quoted for Postgres, comma-separated. -#}
{% macro get_quoted_csv(column_names) -%}
  {%- set quoted = [] -%}
  {%- for name in column_names -%}
    {%- do quoted.append(adapter.quote(name)) -%}
  {%- endfor -%}
  {{- return(quoted | join(', ')) -}}
{%- endmacro %}

{#- Columns a merge updates: merge_update_columns, or every column but merge_exclude_columns,
    or all of them (quoted). -#}
{% macro get_merge_update_columns(merge_update_columns, merge_exclude_columns, dest_columns) -%}
  {{- return(adapter.dispatch('get_merge_update_columns', 'dbt')(merge_update_columns, merge_exclude_columns, dest_columns)) -}}
{%- endmacro %}

{% macro default__get_merge_update_columns(merge_update_columns, merge_exclude_columns, dest_columns) -%}
  {%- if merge_update_columns and merge_exclude_columns -%}
    {{- exceptions.raise_compiler_error('Model cannot specify merge_update_columns and merge_exclude_columns. Please update model to use only one config') -}}
  {%- elif merge_update_columns -%}
    {{- return(merge_update_columns) -}}
  {%- endif -%}
  {%- set excluded = (merge_exclude_columns or []) | map('lower') | list -%}
  {%- set columns = [] -%}
  {%- for column in dest_columns -%}
    {%- if column.column | lower not in excluded -%}
      {%- do columns.append(column.quoted) -%}
    {%- endif -%}
  {%- endfor -%}
  {{- return(columns) -}}
{%- endmacro %}

{#- dbt's `equals` without the enable_truthy_nulls_equals_macro behaviour flag (off by default). -#}
{% macro equals(expr1, expr2) -%}
  {{- return(adapter.dispatch('equals', 'dbt')(expr1, expr2)) -}}
{%- endmacro %}

{% macro default__equals(expr1, expr2) -%}
({{ expr1 }} = {{ expr2 }})
{%- endmacro %}

{% macro get_merge_unique_key_match(source_unique_key, target_unique_key) -%}
  {{- return(adapter.dispatch('get_merge_unique_key_match', 'dbt')(source_unique_key, target_unique_key)) -}}
{%- endmacro %}

{% macro default__get_merge_unique_key_match(source_unique_key, target_unique_key) -%}
  {{- return(equals(source_unique_key, target_unique_key) | trim) -}}
{%- endmacro %}

{#- MERGE of `source` into `target` on unique_key (a column or a list; none: insert only).
    `incremental_predicates` (or the older `predicates=` keyword) are extra SQL conditions. -#}
{% macro get_merge_sql(target, source, unique_key, dest_columns, incremental_predicates=none) -%}
  {%- set incremental_predicates = kwargs.get('predicates', incremental_predicates) -%}
  {{- adapter.dispatch('get_merge_sql', 'dbt')(target, source, unique_key, dest_columns, incremental_predicates) -}}
{%- endmacro %}

{% macro default__get_merge_sql(target, source, unique_key, dest_columns, incremental_predicates=none) -%}
  {%- set predicates = [] if incremental_predicates is none else [] + incremental_predicates -%}
  {%- set dest_cols_csv = get_quoted_csv(dest_columns | map(attribute='name')) -%}
  {%- set update_columns = get_merge_update_columns(config.get('merge_update_columns'), config.get('merge_exclude_columns'), dest_columns) -%}
  {%- set sql_header = config.get('sql_header', none) -%}
  {%- if unique_key -%}
    {%- if unique_key is sequence and unique_key is not mapping and unique_key is not string -%}
      {%- for key in unique_key -%}
        {%- do predicates.append('DBT_INTERNAL_SOURCE.' ~ key ~ ' = DBT_INTERNAL_DEST.' ~ key) -%}
      {%- endfor -%}
    {%- else -%}
      {%- do predicates.append(get_merge_unique_key_match(('DBT_INTERNAL_SOURCE.' ~ unique_key) | trim, ('DBT_INTERNAL_DEST.' ~ unique_key) | trim)) -%}
    {%- endif -%}
  {%- else -%}
    {%- do predicates.append('FALSE') -%}
  {%- endif -%}
{{ sql_header if sql_header is not none }}
merge into {{ target }} as DBT_INTERNAL_DEST
    using {{ source }} as DBT_INTERNAL_SOURCE
    on ({{ predicates | join(') and (') }})
{%- if unique_key %}
when matched then update set
    {% for column_name in update_columns -%}
    {{ column_name }} = DBT_INTERNAL_SOURCE.{{ column_name }}{% if not loop.last %}, {% endif %}
    {%- endfor %}
{%- endif %}
when not matched then insert
    ({{ dest_cols_csv }})
values
    ({{ dest_cols_csv }})
{%- endmacro %}

{#- Delete the target's rows whose unique_key occurs in source, then insert all of source. -#}
{% macro get_delete_insert_merge_sql(target, source, unique_key, dest_columns, incremental_predicates=none) -%}
  {{- adapter.dispatch('get_delete_insert_merge_sql', 'dbt')(target, source, unique_key, dest_columns, incremental_predicates) -}}
{%- endmacro %}

{% macro default__get_delete_insert_merge_sql(target, source, unique_key, dest_columns, incremental_predicates) -%}
  {%- set dest_cols_csv = get_quoted_csv(dest_columns | map(attribute='name')) -%}
  {%- if unique_key -%}
    {%- set keys = [unique_key] if unique_key is string else unique_key -%}
    {%- set key_list = keys | join(', ') %}
delete from {{ target }} as DBT_INTERNAL_DEST
where ({{ key_list }}) in (
    select distinct {{ key_list }}
    from {{ source }} as DBT_INTERNAL_SOURCE
)
    {%- for predicate in (incremental_predicates or []) %}
    and {{ predicate }}
    {%- endfor %};
  {%- endif %}
insert into {{ target }} ({{ dest_cols_csv }})
(
    select {{ dest_cols_csv }}
    from {{ source }}
)
{%- endmacro %}

{% macro get_insert_into_sql(target_relation, temp_relation, dest_columns) -%}
  {%- set dest_cols_csv = get_quoted_csv(dest_columns | map(attribute='name')) %}
insert into {{ target_relation }} ({{ dest_cols_csv }})
(
    select {{ dest_cols_csv }}
    from {{ temp_relation }}
)
{%- endmacro %}

{#- Strategies take dbt's arg_dict: target_relation, temp_relation, unique_key, dest_columns,
    incremental_predicates. -#}
{% macro get_incremental_append_sql(arg_dict) -%}
  {{- return(adapter.dispatch('get_incremental_append_sql', 'dbt')(arg_dict)) -}}
{%- endmacro %}

{% macro default__get_incremental_append_sql(arg_dict) -%}
  {{- return(get_insert_into_sql(arg_dict['target_relation'], arg_dict['temp_relation'], arg_dict['dest_columns'])) -}}
{%- endmacro %}

{% macro get_incremental_delete_insert_sql(arg_dict) -%}
  {{- return(adapter.dispatch('get_incremental_delete_insert_sql', 'dbt')(arg_dict)) -}}
{%- endmacro %}

{% macro default__get_incremental_delete_insert_sql(arg_dict) -%}
  {{- return(get_delete_insert_merge_sql(arg_dict['target_relation'], arg_dict['temp_relation'], arg_dict['unique_key'], arg_dict['dest_columns'], arg_dict['incremental_predicates'])) -}}
{%- endmacro %}

{% macro get_incremental_merge_sql(arg_dict) -%}
  {{- return(adapter.dispatch('get_incremental_merge_sql', 'dbt')(arg_dict)) -}}
{%- endmacro %}

{% macro default__get_incremental_merge_sql(arg_dict) -%}
  {{- return(get_merge_sql(arg_dict['target_relation'], arg_dict['temp_relation'], arg_dict['unique_key'], arg_dict['dest_columns'], arg_dict['incremental_predicates'])) -}}
{%- endmacro %}

{#- The strategy a model without `incremental_strategy` gets. -#}
{% macro get_incremental_default_sql(arg_dict) -%}
  {{- return(adapter.dispatch('get_incremental_default_sql', 'dbt')(arg_dict)) -}}
{%- endmacro %}

{% macro default__get_incremental_default_sql(arg_dict) -%}
  {{- return(get_incremental_append_sql(arg_dict)) -}}
{%- endmacro %}

{#- Postgres: delete+insert when the model has a unique_key, else append. -#}
{% macro postgres__get_incremental_default_sql(arg_dict) -%}
  {%- if arg_dict['unique_key'] -%}
    {{- return(get_incremental_delete_insert_sql(arg_dict)) -}}
  {%- else -%}
    {{- return(get_incremental_append_sql(arg_dict)) -}}
  {%- endif -%}
{%- endmacro %}
