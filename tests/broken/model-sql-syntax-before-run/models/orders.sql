select
  id,
  sum(amount) as total
form {{ ref('payments') }}
group by id
