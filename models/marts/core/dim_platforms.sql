{#-
    The platforms the product observes, plus the 'all' row that the game
    facts use for cross-platform totals of the streaming platforms. The
    rows live in the `platforms` seed.
-#}
with

platforms as (

    select * from {{ ref('platforms') }}

),

final as (

    select
        cast(platform as {{ dbt.type_string() }}) as platform,
        cast(platform_name as {{ dbt.type_string() }}) as platform_name,
        cast(platform_name_ko as {{ dbt.type_string() }}) as platform_name_ko,
        cast(platform_kind as {{ dbt.type_string() }}) as platform_kind,
        cast(region as {{ dbt.type_string() }}) as region,
        cast(poll_source as {{ dbt.type_string() }}) as poll_source,
        cast(sort_order as {{ dbt.type_int() }}) as sort_order
    from platforms

)

select * from final
