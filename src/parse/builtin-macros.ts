/**
 * tsdbt's built-in macros (package `dbt`), written for tsdbt with the same
 * names and behaviour as dbt's defaults. A project's own macro of the same
 * name overrides each of them, exactly as in dbt.
 *
 * - `generate_schema_name(custom_schema_name, node)`: `target.schema`, or
 *   `<target.schema>_<custom>` when a custom schema is configured (dbt's
 *   default naming).
 * - `generate_alias_name(custom_alias_name, node)`: the alias, else the node name.
 * - `generate_database_name(custom_database_name, node)`: the configured
 *   database, else `target.database`.
 * - `get_where_subquery(relation)`: the relation, or
 *   `(select * from relation where <config where>) dbt_subquery` for tests
 *   configured with `where` (as dbt's).
 */
export const BUILTIN_MACROS = `
{% macro generate_schema_name(custom_schema_name, node) -%}
  {%- set default_schema = target.schema -%}
  {%- if custom_schema_name is none -%}
    {{ default_schema }}
  {%- else -%}
    {{ default_schema }}_{{ custom_schema_name | trim }}
  {%- endif -%}
{%- endmacro %}

{% macro generate_alias_name(custom_alias_name=none, node=none) -%}
  {%- if custom_alias_name -%}
    {{ custom_alias_name | trim }}
  {%- else -%}
    {{ node.name }}
  {%- endif -%}
{%- endmacro %}

{% macro generate_database_name(custom_database_name=none, node=none) -%}
  {%- if custom_database_name is none -%}
    {{ target.database }}
  {%- else -%}
    {{ custom_database_name | trim }}
  {%- endif -%}
{%- endmacro %}

{% macro get_where_subquery(relation) -%}
  {%- set where = config.get('where') -%}
  {%- if where -%}
    (select * from {{ relation }} where {{ where }}) dbt_subquery
  {%- else -%}
    {{ relation }}
  {%- endif -%}
{%- endmacro %}
`;
