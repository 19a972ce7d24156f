{#- String and cast helpers (dbt's utils/*.sql). Arguments are SQL expressions unless said otherwise. -#}

{#- `fields` is a list of SQL expressions, joined with ||. -#}
{% macro concat(fields) -%}
  {{- return(adapter.dispatch('concat', 'dbt')(fields)) -}}
{%- endmacro %}

{% macro default__concat(fields) -%}
{{ fields | join(' || ') }}
{%- endmacro %}

{#- md5 of the expression as text. -#}
{% macro hash(field) -%}
  {{- return(adapter.dispatch('hash', 'dbt')(field)) -}}
{%- endmacro %}

{% macro default__hash(field) -%}
md5(cast({{ field }} as {{ type_string() }}))
{%- endmacro %}

{#- The part_number-th piece of string_text split on delimiter_text (1-based); on Postgres
    a negative number counts from the end. -#}
{% macro split_part(string_text, delimiter_text, part_number) -%}
  {{- return(adapter.dispatch('split_part', 'dbt')(string_text, delimiter_text, part_number)) -}}
{%- endmacro %}

{% macro default__split_part(string_text, delimiter_text, part_number) -%}
split_part({{ string_text }}, {{ delimiter_text }}, {{ part_number }})
{%- endmacro %}

{#- Negative part numbers for databases whose split_part lacks them: the piece count is one
    more than the number of delimiters. -#}
{% macro _split_part_negative(string_text, delimiter_text, part_number) -%}
split_part({{ string_text }}, {{ delimiter_text }}, length({{ string_text }}) - length(replace({{ string_text }}, {{ delimiter_text }}, '')) + 2 + {{ part_number }})
{%- endmacro %}

{% macro postgres__split_part(string_text, delimiter_text, part_number) -%}
  {%- if part_number >= 0 -%}
{{ dbt.default__split_part(string_text, delimiter_text, part_number) }}
  {%- else -%}
{{ dbt._split_part_negative(string_text, delimiter_text, part_number) }}
  {%- endif -%}
{%- endmacro %}

{#- `value` (a Jinja string) in single quotes, not escaped. -#}
{% macro string_literal(value) -%}
  {{- return(adapter.dispatch('string_literal', 'dbt')(value)) -}}
{%- endmacro %}

{% macro default__string_literal(value) -%}
'{{ value }}'
{%- endmacro %}

{#- `expression` (a Jinja string) with each ' doubled, for use inside a SQL string literal. -#}
{% macro escape_single_quotes(expression) -%}
  {{- return(adapter.dispatch('escape_single_quotes', 'dbt')(expression)) -}}
{%- endmacro %}

{% macro default__escape_single_quotes(expression) -%}
{{ expression | replace("'", "''") }}
{%- endmacro %}

{% macro right(string_text, length_expression) -%}
  {{- return(adapter.dispatch('right', 'dbt')(string_text, length_expression)) -}}
{%- endmacro %}

{% macro default__right(string_text, length_expression) -%}
right({{ string_text }}, {{ length_expression }})
{%- endmacro %}

{% macro length(expression) -%}
  {{- return(adapter.dispatch('length', 'dbt')(expression)) -}}
{%- endmacro %}

{% macro default__length(expression) -%}
length({{ expression }})
{%- endmacro %}

{#- 1-based position of substring_text in string_text, 0 when absent. -#}
{% macro position(substring_text, string_text) -%}
  {{- return(adapter.dispatch('position', 'dbt')(substring_text, string_text)) -}}
{%- endmacro %}

{% macro default__position(substring_text, string_text) -%}
position({{ substring_text }} in {{ string_text }})
{%- endmacro %}

{% macro replace(field, old_chars, new_chars) -%}
  {{- return(adapter.dispatch('replace', 'dbt')(field, old_chars, new_chars)) -}}
{%- endmacro %}

{% macro default__replace(field, old_chars, new_chars) -%}
replace({{ field }}, {{ old_chars }}, {{ new_chars }})
{%- endmacro %}

{#- `type` is a SQL type name, e.g. dbt.type_int(). -#}
{% macro cast(field, type) -%}
  {{- return(adapter.dispatch('cast', 'dbt')(field, type)) -}}
{%- endmacro %}

{% macro default__cast(field, type) -%}
cast({{ field }} as {{ type }})
{%- endmacro %}

{#- A cast that gives null instead of failing, where the database has one; Postgres has
    none, so it is a plain cast (as in dbt). -#}
{% macro safe_cast(field, type) -%}
  {{- return(adapter.dispatch('safe_cast', 'dbt')(field, type)) -}}
{%- endmacro %}

{% macro default__safe_cast(field, type) -%}
cast({{ field }} as {{ type }})
{%- endmacro %}

{#- A boolean as 'true' / 'false'. Like dbt, printed rather than returned. -#}
{% macro cast_bool_to_text(field) -%}
  {{- adapter.dispatch('cast_bool_to_text', 'dbt')(field) -}}
{%- endmacro %}

{% macro default__cast_bool_to_text(field) -%}
cast({{ field }} as {{ type_string() }})
{%- endmacro %}
