-- remove test orders
delete from {{ ref('orders') }}
where id < 0
