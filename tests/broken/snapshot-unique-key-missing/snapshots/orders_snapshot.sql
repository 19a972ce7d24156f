{% snapshot orders_snapshot %}
{{ config(target_schema=target.schema, strategy='timestamp', updated_at='updated_at') }}
select 1 as id, now() as updated_at
{% endsnapshot %}
