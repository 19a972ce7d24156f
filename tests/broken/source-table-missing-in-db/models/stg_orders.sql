select id, status
from {{ source('jaffle_shop', 'orders') }}
