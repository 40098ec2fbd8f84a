{#- Add a number of minutes to a timestamp (thin wrapper kept for readability). -#}
{% macro add_minutes(expr, minutes) -%}
    {{ dbt.dateadd('minute', minutes, expr) }}
{%- endmacro %}

{#- Whole seconds from `start_expr` to `end_expr`. -#}
{% macro seconds_between(start_expr, end_expr) -%}
    {{ dbt.datediff(start_expr, end_expr, 'second') }}
{%- endmacro %}
