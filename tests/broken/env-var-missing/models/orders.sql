select 1 as id
where '{{ env_var("TSDBT_BROKEN_NOT_SET") }}' = 'x'
