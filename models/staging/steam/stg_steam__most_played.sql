{#- One row per (appid, observed_at): a Steam app's rank among the most played. -#}
with

source as (

    select * from {{ source('steam', 'most_played') }}

),

deduplicated as (

    select
        *,
        row_number() over (
            partition by appid, observed_at
            order by _dlt_load_id desc, _dlt_id desc
        ) as row_num
    from source

),

final as (

    select
        cast(appid as {{ dbt.type_bigint() }}) as steam_appid,
        {{ to_utc('observed_at') }} as observed_at,
        poll_id,
        {{ to_utc('rollup_date') }} as rollup_at,
        cast(rank as {{ dbt.type_int() }}) as most_played_rank,
        cast(last_week_rank as {{ dbt.type_int() }}) as last_week_rank,
        cast(peak_in_game as {{ dbt.type_bigint() }}) as peak_in_game
    from deduplicated
    where row_num = 1

)

select * from final
