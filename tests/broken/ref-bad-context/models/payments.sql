{%- if execute -%}
{%- set source_relation = ref('customers') -%}
{%- else -%}
{%- set source_relation = 'x' -%}
{%- endif %}
select * from {{ source_relation }}
