-- every order has a positive amount
select *
from {{ ref('order') }}
where amount <= 0
