{#-
    The streamer-influence fit is kept until its window or inputs change
    (int_impact_fit_window.fit_id; README "Performance", docs
    `streamer_impact_method`). The fitted models are incremental with the
    strategy `fit_replace` and carry the fit_id they were fitted on; while
    the model's table holds the current fit_id (`fit_kept`), the model's
    select ends in `where 1 = 0`: DuckDB and PostgreSQL then skip its CTEs
    (a constant false filter), and nothing is written. Otherwise it fits
    anew and its rows replace the table's.
-#}

{#-
    True when the table has a fit_id column (tables built before it was added
    have none) and holds rows of the current fit_id, so this incremental run
    keeps it. Call as `is_incremental() and fit_kept()` (a unit test
    overrides the model's is_incremental, not a macro's).
-#}
{% macro fit_kept() -%}
    {%- if not execute -%}
        {{ return(false) }}
    {%- endif -%}
    {#- information_schema, not adapter.get_columns_in_relation: dbt-redshift's
        reads pg_get_late_binding_view_cols(), which only Redshift has -#}
    {%- set has_fit_id = run_query(
        "select 1 from information_schema.columns where lower(table_schema) = '"
        ~ this.schema | lower ~ "' and lower(table_name) = '" ~ this.identifier | lower
        ~ "' and lower(column_name) = 'fit_id'"
    ) -%}
    {%- if has_fit_id.rows | length == 0 -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set found = run_query(
        'select 1 from ' ~ this ~ ' where fit_id = ' ~ current_fit_id() ~ ' limit 1'
    ) -%}
    {{ return(found.rows | length > 0) }}
{%- endmacro %}

{#-
    The current fit_id, as a scalar subquery: that of int_impact_fit_window,
    or of the model named by the model's `meta.fit_id_from` (a parent whose
    rows carry the fit_id they were fitted on; all of them share it).
-#}
{% macro current_fit_id() -%}
    {%- set source = (config.get('meta') or {}).get('fit_id_from', 'int_impact_fit_window') -%}
    (select max(fit_id) from {{ ref(source) }})
{%- endmacro %}

{#-
    Incremental strategy `fit_replace`: delete the rows fitted on another
    fit_id (all of them after a re-fit; none when the fit was kept), then
    insert the new rows.
-#}
{% macro get_incremental_fit_replace_sql(arg_dict) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    {%- set new_rows = 'select ' ~ columns ~ ' from ' ~ arg_dict['temp_relation'] -%}
    {%- do log_written_rows(target, new_rows) %}
    delete from {{ target }}
    where coalesce(fit_id, '') <> coalesce({{ current_fit_id() }}, '');

    insert into {{ target }} ({{ columns }})
    {{ new_rows }}
{%- endmacro %}
