{{ config(materialized='table') }}
select
  o.id,
  c.id
from (select 1 as id) as o
cross join (select 2 as id) as c
