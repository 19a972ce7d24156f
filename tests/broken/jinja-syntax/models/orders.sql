select
  id,
  {% if target.name == 'dev' %}
  'dev' as env
from {{ ref('customers') }}
