{#- Model hook helpers (dbt's materializations/hooks.sql): a hook as the JSON dict `{"sql": …, "transaction": …}`,
    which tsdbt reads back when it compiles the node's hooks. `transaction: false` pre-hooks run before the
    model's statements, `transaction: false` post-hooks after its transaction commits. -#}
{% macro make_hook_config(sql, inside_transaction) -%}
  {{ tojson({"sql": sql, "transaction": inside_transaction}) }}
{%- endmacro %}

{% macro before_begin(sql) -%}
  {{ make_hook_config(sql, inside_transaction=False) }}
{%- endmacro %}

{% macro in_transaction(sql) -%}
  {{ make_hook_config(sql, inside_transaction=True) }}
{%- endmacro %}

{% macro after_commit(sql) -%}
  {{ make_hook_config(sql, inside_transaction=False) }}
{%- endmacro %}
