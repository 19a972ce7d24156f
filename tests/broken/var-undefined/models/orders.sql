select 1 as id
where current_date >= '{{ var("start_date") }}'
