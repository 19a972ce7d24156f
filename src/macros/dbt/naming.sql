{#- Naming macros: where a node is built. dbt's get_custom_name/*.sql, written for tsdbt.
    The bare macros dispatch; a project overrides either the bare name (generate_schema_name)
    or an implementation (default__generate_schema_name), as in dbt 1.x. -#}

{% macro generate_schema_name(custom_schema_name=none, node=none) -%}
  {{- return(adapter.dispatch('generate_schema_name', 'dbt')(custom_schema_name, node)) -}}
{%- endmacro %}

{% macro default__generate_schema_name(custom_schema_name, node) -%}
  {%- if custom_schema_name is none -%}
    {{ target.schema }}
  {%- else -%}
    {{ target.schema }}_{{ custom_schema_name | trim }}
  {%- endif -%}
{%- endmacro %}

{#- dbt's alternative for production/dev splits: the custom schema alone on the `prod` target. -#}
{% macro generate_schema_name_for_env(custom_schema_name, node) -%}
  {%- if target.name == 'prod' and custom_schema_name is not none -%}
    {{ custom_schema_name | trim }}
  {%- else -%}
    {{ target.schema }}
  {%- endif -%}
{%- endmacro %}

{% macro generate_alias_name(custom_alias_name=none, node=none) -%}
  {%- do return(adapter.dispatch('generate_alias_name', 'dbt')(custom_alias_name, node)) -%}
{%- endmacro %}

{#- A versioned model without an alias is named <name>_v<version> (dots become underscores). -#}
{% macro default__generate_alias_name(custom_alias_name=none, node=none) -%}
  {%- if custom_alias_name -%}
    {{ custom_alias_name | trim }}
  {%- elif node.version -%}
    {{ return(node.name ~ '_v' ~ (node.version | string | replace('.', '_'))) }}
  {%- else -%}
    {{ node.name }}
  {%- endif -%}
{%- endmacro %}

{% macro generate_database_name(custom_database_name=none, node=none) -%}
  {%- do return(adapter.dispatch('generate_database_name', 'dbt')(custom_database_name, node)) -%}
{%- endmacro %}

{% macro default__generate_database_name(custom_database_name=none, node=none) -%}
  {%- if custom_database_name is none -%}
    {{ target.database }}
  {%- else -%}
    {{ custom_database_name | trim }}
  {%- endif -%}
{%- endmacro %}

{#- The relation a generic test reads: filtered by the test's `where` config when it has one. -#}
{% macro get_where_subquery(relation) -%}
  {%- do return(adapter.dispatch('get_where_subquery', 'dbt')(relation)) -%}
{%- endmacro %}

{% macro default__get_where_subquery(relation) -%}
  {%- set where = config.get('where', '') -%}
  {%- if where -%}
    {%- do return('(select * from ' ~ relation ~ ' where ' ~ where ~ ') dbt_subquery') -%}
  {%- else -%}
    {%- do return(relation) -%}
  {%- endif -%}
{%- endmacro %}
