{% macro cents_to_dollars(column_name) %}
  ({{ column_name }} / 100.0
{% endmacro %}

{% macro dollars(column_name) %}
  {{ column_name }}::numeric(16, 2
{% endmacro
