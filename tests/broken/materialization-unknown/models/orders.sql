{{ config(materialized='tabel') }}
select 1 as id
