{#-
  channel_for(is_paid, medium): the marketing channel of one session, as a SQL CASE expression.
  Both arguments are SQL expressions (usually column names); medium must already be lower-cased,
  trimmed, and NULL for direct traffic. Returns one of the channel names listed in dim_channel.
-#}
{% macro channel_for(is_paid, medium) -%}
    case
        when {{ is_paid }} and {{ medium }} = 'search' then 'paid_search'
        when {{ is_paid }} and {{ medium }} is not null then 'paid_impression'
        when not {{ is_paid }} and {{ medium }} = 'search' then 'organic_search'
        when not {{ is_paid }} and {{ medium }} is null then 'direct'
        else 'other'
    end
{%- endmacro %}
