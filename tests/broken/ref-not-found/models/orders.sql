select o.id
from {{ ref('stg_order') }} as o
