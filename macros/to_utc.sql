{#
    A `timestamp with time zone` as a plain UTC `timestamp`. Silver and gold
    keep every instant as a UTC timestamp without zone, so date_trunc and
    date arithmetic give the same answer on every warehouse, whatever the
    session time zone is.
#}
{% macro to_utc(expr) -%}
    {{ return(adapter.dispatch('to_utc', 'game_stream_trends')(expr)) }}
{%- endmacro %}

{% macro default__to_utc(expr) -%}
    cast(({{ expr }}) at time zone 'UTC' as {{ dbt.type_timestamp() }})
{%- endmacro %}

{% macro redshift__to_utc(expr) -%}
    cast(convert_timezone('UTC', {{ expr }}) as {{ dbt.type_timestamp() }})
{%- endmacro %}
