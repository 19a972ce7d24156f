select *
from {{ source('jaffle_shop', 'order') }}
