select '{{ var("start", "2020-01-01") }}' as d
