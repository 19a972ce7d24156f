{{ config(materialized='table', enabled='sometimes') }}
select 1 as id
