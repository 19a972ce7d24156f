{#- Aggregates, arrays and set operators (dbt's utils/*.sql and dbt-postgres's overrides). -#}

{#- String aggregation. `delimiter_text` and `order_by_clause` are SQL text
    ("', '", "order by x"); `limit_num` keeps the first n values. -#}
{% macro listagg(measure, delimiter_text="','", order_by_clause=none, limit_num=none) -%}
  {{- return(adapter.dispatch('listagg', 'dbt')(measure, delimiter_text, order_by_clause, limit_num)) -}}
{%- endmacro %}

{% macro default__listagg(measure, delimiter_text, order_by_clause, limit_num) -%}
  {%- if limit_num -%}
array_to_string(array_slice(array_agg({{ measure }}){% if order_by_clause %} within group ({{ order_by_clause }}){% endif %}, 0, {{ limit_num }}), {{ delimiter_text }})
  {%- else -%}
listagg({{ measure }}, {{ delimiter_text }}){% if order_by_clause %} within group ({{ order_by_clause }}){% endif %}
  {%- endif -%}
{%- endmacro %}

{#- Postgres: string_agg, and a slice of array_agg for a limit. -#}
{% macro postgres__listagg(measure, delimiter_text, order_by_clause, limit_num) -%}
  {%- if limit_num -%}
array_to_string((array_agg({{ measure }}{% if order_by_clause %} {{ order_by_clause }}{% endif %}))[1:{{ limit_num }}], {{ delimiter_text }})
  {%- else -%}
string_agg({{ measure }}, {{ delimiter_text }}{% if order_by_clause %} {{ order_by_clause }}{% endif %})
  {%- endif -%}
{%- endmacro %}

{% macro bool_or(expression) -%}
  {{- return(adapter.dispatch('bool_or', 'dbt')(expression)) -}}
{%- endmacro %}

{% macro default__bool_or(expression) -%}
bool_or({{ expression }})
{%- endmacro %}

{#- Any one value of the group. -#}
{% macro any_value(expression) -%}
  {{- return(adapter.dispatch('any_value', 'dbt')(expression)) -}}
{%- endmacro %}

{% macro default__any_value(expression) -%}
any_value({{ expression }})
{%- endmacro %}

{#- PostgreSQL before 16 has no any_value(): min() picks one of the values too. -#}
{% macro postgres__any_value(expression) -%}
min({{ expression }})
{%- endmacro %}

{#- An array of the SQL expressions in `inputs` (all of one type); an empty list gives an
    empty array of `data_type`. -#}
{% macro array_construct(inputs=[], data_type='integer') -%}
  {{- return(adapter.dispatch('array_construct', 'dbt')(inputs, data_type)) -}}
{%- endmacro %}

{% macro default__array_construct(inputs, data_type) -%}
  {%- if inputs | length > 0 -%}
array[ {{ inputs | join(' , ') }} ]
  {%- else -%}
array[]::{{ data_type }}[]
  {%- endif -%}
{%- endmacro %}

{#- `new_element` must have the array's element type. -#}
{% macro array_append(array, new_element) -%}
  {{- return(adapter.dispatch('array_append', 'dbt')(array, new_element)) -}}
{%- endmacro %}

{% macro default__array_append(array, new_element) -%}
array_append({{ array }}, {{ new_element }})
{%- endmacro %}

{% macro array_concat(array_1, array_2) -%}
  {{- return(adapter.dispatch('array_concat', 'dbt')(array_1, array_2)) -}}
{%- endmacro %}

{% macro default__array_concat(array_1, array_2) -%}
array_cat({{ array_1 }}, {{ array_2 }})
{%- endmacro %}

{#- The keyword between two selects: `select ... {{ dbt.except() }} select ...`. -#}
{% macro except() -%}
  {{- return(adapter.dispatch('except', 'dbt')()) -}}
{%- endmacro %}

{#- Surrounded by newlines, as dbt's, so `select 1{{ dbt.except() }}select 2` still parses. -#}
{% macro default__except() %}
    except
{% endmacro %}

{% macro intersect() -%}
  {{- return(adapter.dispatch('intersect', 'dbt')()) -}}
{%- endmacro %}

{% macro default__intersect() %}
    intersect
{% endmacro %}
