{#- Config helpers that materializations and tests read (dbt's materializations/configs.sql). -#}

{#- The model's `full_refresh` config when set (true/false), else the --full-refresh flag. -#}
{% macro should_full_refresh() -%}
  {%- set value = config.get('full_refresh') -%}
  {%- if value is none -%}
    {%- set value = flags.FULL_REFRESH -%}
  {%- endif -%}
  {%- do return(value) -%}
{%- endmacro %}

{#- The test's `store_failures` config when set, else the --store-failures flag. -#}
{% macro should_store_failures() -%}
  {%- set value = config.get('store_failures') -%}
  {%- if value is none -%}
    {%- set value = flags.STORE_FAILURES -%}
  {%- endif -%}
  {%- do return(value) -%}
{%- endmacro %}
