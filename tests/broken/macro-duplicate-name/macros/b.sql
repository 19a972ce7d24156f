
{% macro cents(x) %}{{ x }}/100.0{% endmacro %}
