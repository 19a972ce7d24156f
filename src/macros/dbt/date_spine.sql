{#- Number series and date spines (dbt's utils/generate_series.sql and date_spine.sql). -#}

{#- The smallest n >= 1 with 2**n >= upper_bound (a positive integer). -#}
{% macro get_powers_of_two(upper_bound) -%}
  {{- return(adapter.dispatch('get_powers_of_two', 'dbt')(upper_bound)) -}}
{%- endmacro %}

{% macro default__get_powers_of_two(upper_bound) -%}
  {%- if upper_bound <= 0 -%}
    {{- exceptions.raise_compiler_error('upper bound must be positive') -}}
  {%- endif -%}
  {%- for n in range(1, 100) -%}
    {%- if upper_bound <= 2 ** n -%}
      {{- return(n) -}}
    {%- endif -%}
  {%- endfor -%}
{%- endmacro %}

{#- A query of one column, generated_number, holding 1 .. upper_bound in order: the
    cross join of n two-row tables, so it runs where generate_series() does not. -#}
{% macro generate_series(upper_bound) -%}
  {{- return(adapter.dispatch('generate_series', 'dbt')(upper_bound)) -}}
{%- endmacro %}

{% macro default__generate_series(upper_bound) -%}
  {%- set n = dbt.get_powers_of_two(upper_bound) %}
with p as (
    select 0 as generated_number union all select 1
), unioned as (

    select
    {% for i in range(n) -%}
    p{{ i }}.generated_number * power(2, {{ i }}){% if not loop.last %} + {% endif %}
    {% endfor -%}
    + 1 as generated_number
    from
    {% for i in range(n) -%}
    p as p{{ i }}{% if not loop.last %} cross join {% endif %}
    {% endfor %}
)

select *
from unioned
where generated_number <= {{ upper_bound }}
order by generated_number
{%- endmacro %}

{#- How many datepart intervals lie between two date expressions: dbt.datediff evaluated
    by the database. Needs the database at compile time (`run_query`); during parsing,
    as in dbt, it is 1. -#}
{% macro get_intervals_between(start_date, end_date, datepart) -%}
  {{- return(adapter.dispatch('get_intervals_between', 'dbt')(start_date, end_date, datepart)) -}}
{%- endmacro %}

{% macro default__get_intervals_between(start_date, end_date, datepart) -%}
  {%- if not execute -%}
    {{- return(1) -}}
  {%- endif -%}
  {%- if run_query is not defined or run_query is none -%}
    {{- exceptions.raise_compiler_error("[unsupported] get_intervals_between (used by date_spine) asks the database how many intervals there are, and run_query is not available in this tsdbt context yet") -}}
  {%- endif -%}
  {%- set result = run_query('select ' ~ dbt.datediff(start_date, end_date, datepart) ~ ' as intervals') -%}
  {%- if result and result.rows | length > 0 -%}
    {%- set row = result.rows[0] -%}
    {%- set value = row[0] if row[0] is defined and row[0] is not none else row['intervals'] -%}
    {{- return(value | int) -}}
  {%- endif -%}
  {{- return(1) -}}
{%- endmacro %}

{#- One row per datepart from start_date (included) to end_date (excluded), in a column
    named date_<datepart>. Dates are SQL expressions, e.g. "cast('2024-01-01' as date)". -#}
{% macro date_spine(datepart, start_date, end_date) -%}
  {{- return(adapter.dispatch('date_spine', 'dbt')(datepart, start_date, end_date)) -}}
{%- endmacro %}

{% macro default__date_spine(datepart, start_date, end_date) %}
with rawdata as (

    {{ dbt.generate_series(dbt.get_intervals_between(start_date, end_date, datepart)) }}

),

all_periods as (

    select (
        {{ dbt.dateadd(datepart, 'row_number() over (order by 1) - 1', start_date) }}
    ) as date_{{ datepart }}
    from rawdata

),

filtered as (

    select *
    from all_periods
    where date_{{ datepart }} <= {{ end_date }}

)

select * from filtered
{% endmacro %}
