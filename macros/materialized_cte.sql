{#-
    `name as {{ materialized_cte() }} (...)`: on DuckDB, computes a CTE that
    later steps read more than once a single time and keeps the result.
    DuckDB's own choice for such CTEs can hold several copies of their inputs
    in memory at once: fct_streamer_game_impact needed more than 256 MB on one
    simulated day without it and less than 128 MB with it (bench/dbt_memory.py).
    PostgreSQL materializes such CTEs by default; Redshift has no such keyword.
-#}
{% macro materialized_cte() -%}
    {%- if target.type == 'duckdb' -%}materialized{%- endif -%}
{%- endmacro %}
