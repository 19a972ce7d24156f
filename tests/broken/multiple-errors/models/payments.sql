select {{ amount_in_dollars('amount') }}
from {{ ref('stg_orders') }}
