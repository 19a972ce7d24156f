select 1 as id, 5 as amount
