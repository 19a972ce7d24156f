{#- Current time (dbt's adapters/timestamps.sql and dbt-postgres's timestamps.sql). -#}

{% macro current_timestamp() -%}
  {{- adapter.dispatch('current_timestamp', 'dbt')() -}}
{%- endmacro %}

{% macro default__current_timestamp() -%}
  {{- exceptions.raise_not_implemented('current_timestamp macro not implemented for adapter ' ~ adapter.type()) -}}
{%- endmacro %}

{#- Postgres: now(), a timestamp with time zone. -#}
{% macro postgres__current_timestamp() -%}
now()
{%- endmacro %}

{#- Deprecated in dbt, kept for projects that relied on dbt_utils.current_timestamp():
    a timestamp without time zone in the session's time zone. -#}
{% macro current_timestamp_backcompat() -%}
  {{- return(adapter.dispatch('current_timestamp_backcompat', 'dbt')()) -}}
{%- endmacro %}

{% macro default__current_timestamp_backcompat() -%}
current_timestamp::timestamp
{%- endmacro %}

{% macro postgres__current_timestamp_backcompat() -%}
current_timestamp::{{ type_timestamp() }}
{%- endmacro %}

{#- Likewise for dbt_utils.current_timestamp_in_utc(): the current UTC wall-clock time. -#}
{% macro current_timestamp_in_utc_backcompat() -%}
  {{- return(adapter.dispatch('current_timestamp_in_utc_backcompat', 'dbt')()) -}}
{%- endmacro %}

{% macro default__current_timestamp_in_utc_backcompat() -%}
  {{- return(adapter.dispatch('current_timestamp_backcompat', 'dbt')()) -}}
{%- endmacro %}

{% macro postgres__current_timestamp_in_utc_backcompat() -%}
(current_timestamp at time zone 'utc')::{{ type_timestamp() }}
{%- endmacro %}
