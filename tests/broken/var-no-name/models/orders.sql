select {{ var() }} as id
