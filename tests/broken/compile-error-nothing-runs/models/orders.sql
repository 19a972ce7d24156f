select *
from {{ ref('customers') }}
{% if execute %}
  {{ exceptions.raise_compiler_error("orders: set var('start_date') before building") }}
{% endif %}
