{{ config(materialized='table') }}
create table orders as
select 1 as id
