{#- One row per (game id, observed_at): a game's rank in Helix top games. -#}
with

source as (

    select * from {{ source('twitch', 'top_games') }}

),

deduplicated as (

    select
        *,
        row_number() over (
            partition by game_id, observed_at
            order by _dlt_load_id desc, _dlt_id desc
        ) as row_num
    from source

),

final as (

    select
        cast('twitch' as {{ dbt.type_string() }}) as platform,
        cast(game_id as {{ dbt.type_string() }}) as category_id,
        {{ to_utc('observed_at') }} as observed_at,
        poll_id,
        cast(rank as {{ dbt.type_int() }}) as top_rank
    from deduplicated
    where row_num = 1

)

select * from final
