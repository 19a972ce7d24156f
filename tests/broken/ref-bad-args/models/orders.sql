select *
from {{ ref() }}
