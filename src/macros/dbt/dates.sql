{#- Date arithmetic (dbt's utils/date_trunc, dateadd, datediff, last_day, date and
    dbt-postgres's overrides). `datepart` is a bare word (day, week, month, quarter, year,
    hour, minute, second, ...); dates and intervals are SQL expressions. -#}

{% macro date_trunc(datepart, date) -%}
  {{- return(adapter.dispatch('date_trunc', 'dbt')(datepart, date)) -}}
{%- endmacro %}

{% macro default__date_trunc(datepart, date) -%}
date_trunc('{{ datepart }}', {{ date }})
{%- endmacro %}

{#- `from_date_or_timestamp` plus `interval` datepart units. -#}
{% macro dateadd(datepart, interval, from_date_or_timestamp) -%}
  {{- return(adapter.dispatch('dateadd', 'dbt')(datepart, interval, from_date_or_timestamp)) -}}
{%- endmacro %}

{% macro default__dateadd(datepart, interval, from_date_or_timestamp) -%}
dateadd({{ datepart }}, {{ interval }}, {{ from_date_or_timestamp }})
{%- endmacro %}

{#- Postgres has no dateadd: add `interval` times a one-unit interval. -#}
{% macro postgres__dateadd(datepart, interval, from_date_or_timestamp) -%}
{{ from_date_or_timestamp }} + ((interval '1 {{ datepart }}') * ({{ interval }}))
{%- endmacro %}

{#- Datepart boundaries crossed going from first_date to second_date (negative when second_date is earlier). -#}
{% macro datediff(first_date, second_date, datepart) -%}
  {{- return(adapter.dispatch('datediff', 'dbt')(first_date, second_date, datepart)) -}}
{%- endmacro %}

{% macro default__datediff(first_date, second_date, datepart) -%}
datediff({{ datepart }}, {{ first_date }}, {{ second_date }})
{%- endmacro %}

{#- Postgres: built up from year, day and minute differences plus date_part() of each side,
    so a month difference counts calendar months crossed, not 30-day periods. -#}
{% macro postgres__datediff(first_date, second_date, datepart) -%}
  {%- set a = '(' ~ first_date ~ ')' -%}
  {%- set b = '(' ~ second_date ~ ')' -%}
  {%- if datepart == 'year' -%}
    (date_part('year', {{ b }}::date) - date_part('year', {{ a }}::date))
  {%- elif datepart == 'quarter' -%}
    ({{ datediff(first_date, second_date, 'year') }} * 4 + date_part('quarter', {{ b }}::date) - date_part('quarter', {{ a }}::date))
  {%- elif datepart == 'month' -%}
    ({{ datediff(first_date, second_date, 'year') }} * 12 + date_part('month', {{ b }}::date) - date_part('month', {{ a }}::date))
  {%- elif datepart == 'day' -%}
    ({{ b }}::date - {{ a }}::date)
  {%- elif datepart == 'week' -%}
    ({{ datediff(first_date, second_date, 'day') }} / 7 + case
        when date_part('dow', {{ a }}::timestamp) <= date_part('dow', {{ b }}::timestamp) then
            case when {{ first_date }} <= {{ second_date }} then 0 else -1 end
        else
            case when {{ first_date }} <= {{ second_date }} then 1 else 0 end
    end)
  {%- elif datepart == 'hour' -%}
    ({{ datediff(first_date, second_date, 'day') }} * 24 + date_part('hour', {{ b }}::timestamp) - date_part('hour', {{ a }}::timestamp))
  {%- elif datepart == 'minute' -%}
    ({{ datediff(first_date, second_date, 'hour') }} * 60 + date_part('minute', {{ b }}::timestamp) - date_part('minute', {{ a }}::timestamp))
  {%- elif datepart in ('second', 'millisecond', 'microsecond') -%}
    {%- set units_per_minute = {'second': 60, 'millisecond': 60000, 'microsecond': 60000000} -%}
    {%- set per_minute = units_per_minute[datepart] -%}
    ({{ datediff(first_date, second_date, 'minute') }} * {{ per_minute }} + floor(date_part('{{ datepart }}', {{ b }}::timestamp)) - floor(date_part('{{ datepart }}', {{ a }}::timestamp)))
  {%- else -%}
    {{- exceptions.raise_compiler_error("Unsupported datepart for macro datediff in postgres: '" ~ datepart ~ "'") -}}
  {%- endif -%}
{%- endmacro %}

{#- The last day of the datepart period holding `date`, as a date. -#}
{% macro last_day(date, datepart) -%}
  {{- return(adapter.dispatch('last_day', 'dbt')(date, datepart)) -}}
{%- endmacro %}

{#- The start of the next period, minus one day. -#}
{% macro default_last_day(date, datepart) -%}
cast({{ dbt.dateadd('day', '-1', dbt.dateadd(datepart, '1', dbt.date_trunc(datepart, date))) }} as date)
{%- endmacro %}

{% macro default__last_day(date, datepart) -%}
{{ dbt.default_last_day(date, datepart) }}
{%- endmacro %}

{#- Postgres has no '1 quarter' interval: a quarter is three months. -#}
{% macro postgres__last_day(date, datepart) -%}
  {%- if datepart == 'quarter' -%}
cast({{ dbt.dateadd('day', '-1', dbt.dateadd('month', '3', dbt.date_trunc(datepart, date))) }} as date)
  {%- else -%}
{{ dbt.default_last_day(date, datepart) }}
  {%- endif -%}
{%- endmacro %}

{#- A date literal from three integers: to_date('2024-02-09', 'YYYY-MM-DD'). -#}
{% macro date(year, month, day) -%}
  {{- return(adapter.dispatch('date', 'dbt')(year, month, day)) -}}
{%- endmacro %}

{% macro default__date(year, month, day) -%}
to_date('{{ modules.datetime.date(year, month, day).strftime('%Y-%m-%d') }}', 'YYYY-MM-DD')
{%- endmacro %}
