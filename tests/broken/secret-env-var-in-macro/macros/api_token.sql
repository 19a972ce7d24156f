{% macro api_token() %}
  {{- return(env_var('DBT_ENV_SECRET_BROKEN_TOKEN')) -}}
{% endmacro %}
