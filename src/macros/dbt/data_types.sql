{#- Portable type names (dbt's utils/data_types.sql). dbt builds them with
    api.Column.translate_type, which on Postgres maps only 'string' (to TEXT) and
    passes every other label through; type_numeric is numeric(28,6). -#}

{% macro type_string() -%}
  {{- return(adapter.dispatch('type_string', 'dbt')()) -}}
{%- endmacro %}

{% macro default__type_string() -%}
  {{- return('TEXT') -}}
{%- endmacro %}

{% macro type_timestamp() -%}
  {{- return(adapter.dispatch('type_timestamp', 'dbt')()) -}}
{%- endmacro %}

{#- Postgres: timestamp without time zone. -#}
{% macro default__type_timestamp() -%}
  {{- return('timestamp') -}}
{%- endmacro %}

{% macro type_float() -%}
  {{- return(adapter.dispatch('type_float', 'dbt')()) -}}
{%- endmacro %}

{#- Postgres: float is double precision. -#}
{% macro default__type_float() -%}
  {{- return('float') -}}
{%- endmacro %}

{% macro type_numeric() -%}
  {{- return(adapter.dispatch('type_numeric', 'dbt')()) -}}
{%- endmacro %}

{% macro default__type_numeric() -%}
  {{- return('numeric(28,6)') -}}
{%- endmacro %}

{% macro type_bigint() -%}
  {{- return(adapter.dispatch('type_bigint', 'dbt')()) -}}
{%- endmacro %}

{% macro default__type_bigint() -%}
  {{- return('bigint') -}}
{%- endmacro %}

{% macro type_int() -%}
  {{- return(adapter.dispatch('type_int', 'dbt')()) -}}
{%- endmacro %}

{% macro default__type_int() -%}
  {{- return('integer') -}}
{%- endmacro %}

{% macro type_boolean() -%}
  {{- return(adapter.dispatch('type_boolean', 'dbt')()) -}}
{%- endmacro %}

{% macro default__type_boolean() -%}
  {{- return('boolean') -}}
{%- endmacro %}
