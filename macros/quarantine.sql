{#-
    Staging of a platform's `quarantine` table (pages and items the loader
    could not load, with the reason). dlt creates the table with its first
    rejected row, so a platform that never quarantined anything has none:
    the model is then empty, with the same columns.
-#}
{% macro stg_quarantine(source_name) -%}
    {%- set source_relation = source(source_name, 'quarantine') %}
    {%- set existing = adapter.get_relation(
        database=source_relation.database,
        schema=source_relation.schema,
        identifier=source_relation.identifier,
    ) if execute else none %}
with

final as (

    {% if existing is not none -%}
        select
            cast(_dlt_id as {{ dbt.type_string() }}) as quarantine_id,
            cast(platform as {{ dbt.type_string() }}) as platform,
            cast(endpoint as {{ dbt.type_string() }}) as endpoint,
            cast(reason as {{ dbt.type_string() }}) as reason,
            cast(poll_id as {{ dbt.type_string() }}) as poll_id,
            {{ to_utc('observed_at') }} as observed_at,
            {{ to_utc('quarantined_at') }} as quarantined_at
        from {{ source_relation }}
    {%- else -%}
        select
            cast(null as {{ dbt.type_string() }}) as quarantine_id,
            cast(null as {{ dbt.type_string() }}) as platform,
            cast(null as {{ dbt.type_string() }}) as endpoint,
            cast(null as {{ dbt.type_string() }}) as reason,
            cast(null as {{ dbt.type_string() }}) as poll_id,
            cast(null as {{ dbt.type_timestamp() }}) as observed_at,
            cast(null as {{ dbt.type_timestamp() }}) as quarantined_at
        where 1 = 0
    {%- endif %}

)

select * from final
{%- endmacro %}
