/**
 * dbt's four built-in generic tests as Jinja macros, package `dbt`, written
 * for tsdbt with the same names, signatures and SQL shape as dbt-adapters'
 * `default__test_unique` & co. A project's own `test_unique` (or a `{% test unique %}`
 * block) overrides them, as in dbt.
 *
 * Each macro returns a query selecting the failing rows; the test passes when
 * it returns none. Callers wrap it with {@link wrapTestSql}.
 *
 * Arguments, as dbt passes them (all already rendered, see `renderTestKwargs`):
 * - `model`: the tested relation, or `(select * from <relation> where <where>) dbt_subquery`
 *   when the test has a `where` config (the `get_where_subquery` macro);
 * - `column_name`: a column name or any SQL expression, e.g. `(userid || '-' || time_started)`;
 * - `to` (relationships): the parent relation (the kwarg `ref('customers')`, rendered);
 * - `values`, `quote` (accepted_values): values are wrapped in single quotes unless
 *   `quote: false`; like dbt, quotes inside a value are not escaped.
 *
 * Context the macros read: `config.get('store_failures')` and `flags.STORE_FAILURES`
 * (not_null selects `*` instead of the column when failures are stored, as dbt does).
 */
export const BUILTIN_TEST_MACROS_FILE = 'macros/tsdbt/builtin_generic_tests.sql';

export const BUILTIN_TEST_MACROS = String.raw`
{% macro test_unique(model, column_name) %}
select
    {{ column_name }} as unique_field,
    count(*) as n_records

from {{ model }}
where {{ column_name }} is not null
group by {{ column_name }}
having count(*) > 1
{% endmacro %}

{% macro test_not_null(model, column_name) %}
{%- set store_failures = config.get('store_failures') -%}
{%- if store_failures is none or store_failures is not defined -%}
  {%- set store_failures = flags.STORE_FAILURES -%}
{%- endif -%}
{%- set column_list = '*' if store_failures else column_name %}
select {{ column_list }}
from {{ model }}
where {{ column_name }} is null
{% endmacro %}

{% macro test_accepted_values(model, column_name, values, quote=true) %}
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

{% macro test_relationships(model, column_name, to, field) %}
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
`;

/** Names of the built-in generic tests (for "unknown test" suggestions). */
export const BUILTIN_TEST_NAMES: readonly string[] = ['unique', 'not_null', 'accepted_values', 'relationships'];
