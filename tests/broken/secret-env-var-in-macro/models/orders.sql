select 1 as id,
  '{{ api_token() }}' as token
