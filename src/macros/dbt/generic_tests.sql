{#- dbt's four built-in generic tests. `test_<name>` is what a `data_tests:` entry calls; it
    dispatches to `<adapter>__test_<name>`, so a project (or a package listed in `dispatch:`)
    can replace the SQL with its own `default__test_unique` and keep the test's name.
    Each implementation selects the failing rows; the test passes when there are none. -#}

{% test unique(model, column_name) %}
  {{- adapter.dispatch('test_unique', 'dbt')(model, column_name) -}}
{% endtest %}

{% test not_null(model, column_name) %}
  {{- adapter.dispatch('test_not_null', 'dbt')(model, column_name) -}}
{% endtest %}

{% test accepted_values(model, column_name, values, quote=true) %}
  {{- adapter.dispatch('test_accepted_values', 'dbt')(model, column_name, values, quote) -}}
{% endtest %}

{% test relationships(model, column_name, to, field) %}
  {{- adapter.dispatch('test_relationships', 'dbt')(model, column_name, to, field) -}}
{% endtest %}

{#- Values of the column that occur more than once (nulls ignored). -#}
{% macro default__test_unique(model, column_name) %}
select
    {{ column_name }} as unique_field,
    count(*) as n_records

from {{ model }}
where {{ column_name }} is not null
group by {{ column_name }}
having count(*) > 1
{% endmacro %}

{#- Rows where the column is null; all their columns when failures are stored. -#}
{% macro default__test_not_null(model, column_name) %}
{%- set column_list = '*' if should_store_failures() else column_name %}
select {{ column_list }}
from {{ model }}
where {{ column_name }} is null
{% endmacro %}

{#- Distinct values outside `values`; each value is single-quoted unless quote=false
    (as in dbt, quotes inside a value are not escaped). -#}
{% macro default__test_accepted_values(model, column_name, values, quote=true) %}
with all_values as (

    select
        {{ column_name }} as value_field,
        count(*) as n_records

    from {{ model }}
    group by {{ column_name }}

)

select *
from all_values
where value_field not in (
    {% for value in values -%}
        {% if quote -%}
        '{{ value }}'
        {%- else -%}
        {{ value }}
        {%- endif -%}
        {%- if not loop.last -%},{%- endif %}
    {%- endfor %}
)
{% endmacro %}

{#- Non-null values of the column with no matching `field` in the `to` relation. -#}
{% macro default__test_relationships(model, column_name, to, field) %}
with child as (
    select {{ column_name }} as from_field
    from {{ model }}
    where {{ column_name }} is not null
),

parent as (
    select {{ field }} as to_field
    from {{ to }}
)

select
    from_field

from child
left join parent
    on child.from_field = parent.to_field

where parent.to_field is null
{% endmacro %}
