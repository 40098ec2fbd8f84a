{#- Add a number of minutes to a timestamp (thin wrapper kept for readability). -#}
{% macro add_minutes(expr, minutes) -%}
    {{ dbt.dateadd('minute', minutes, expr) }}
{%- endmacro %}

{#- Whole seconds from `start_expr` to `end_expr`. -#}
{% macro seconds_between(start_expr, end_expr) -%}
    {{ dbt.datediff(start_expr, end_expr, 'second') }}
{%- endmacro %}

{#-
    Start of the poll slot (var('poll_interval_minutes') wide, aligned to the
    hour) that `ts_expr` falls in; `hour_expr` is its UTC hour when the model
    already has it (default: truncated here).
-#}
{% macro poll_slot(ts_expr, hour_expr=none) -%}
    {%- set poll_minutes = var('poll_interval_minutes') | int(10) -%}
    {%- set hour = hour_expr or dbt.date_trunc('hour', ts_expr) -%}
    {{ dbt.dateadd(
        'minute',
        'cast(floor(' ~ dbt.datediff(hour, ts_expr, 'minute')
            ~ ' / ' ~ poll_minutes ~ '.0) * ' ~ poll_minutes ~ ' as integer)',
        hour
    ) }}
{%- endmacro %}
