select 1 as id
{% if execute %}
  {{ exceptions.raise_compiler_error("payments: not ready") }}
{% endif %}
