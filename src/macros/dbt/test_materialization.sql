{#- dbt's `test` materialization and get_test_sql, as macros (dbt-adapters' materializations/tests).
    tsdbt's test runner (src/runner/runners.ts) runs data tests in TypeScript; these exist for
    user-defined `test` materializations that wrap the built-in one, as observability packages do:
    {{ return(dbt.materialization_test_default()) }}. The runner reads the 'main' statement's
    row (failures, should_warn, should_error). -#}
{% materialization test, default %}
  {%- if should_store_failures() -%}
    {{- exceptions.raise_compiler_error("[unsupported] store_failures with a user-defined test materialization: tsdbt stores failing rows only with its own test runner") -}}
  {%- endif -%}
  {%- set limit = config.get('limit') -%}
  {%- set fail_calc = config.get('fail_calc') or 'count(*)' -%}
  {%- set warn_if = config.get('warn_if') or '!= 0' -%}
  {%- set error_if = config.get('error_if') or '!= 0' -%}
  {% call statement('main', fetch_result=True) -%}
    {{ get_test_sql(sql, fail_calc, warn_if, error_if, limit) }}
  {%- endcall %}
  {{ return({'relations': []}) }}
{% endmaterialization %}

{% macro get_test_sql(main_sql, fail_calc, warn_if, error_if, limit) -%}
  {{- adapter.dispatch('get_test_sql', 'dbt')(main_sql, fail_calc, warn_if, error_if, limit) -}}
{%- endmacro %}

{% macro default__get_test_sql(main_sql, fail_calc, warn_if, error_if, limit) -%}
select
  {{ fail_calc }} as failures,
  {{ fail_calc }} {{ warn_if }} as should_warn,
  {{ fail_calc }} {{ error_if }} as should_error
from (
{{ main_sql }}
{{ "limit " ~ limit if limit is not none }}
) dbt_internal_test
{%- endmacro %}
