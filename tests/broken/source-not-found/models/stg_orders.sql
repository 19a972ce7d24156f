select *
from {{ source('jaffle', 'orders') }}
