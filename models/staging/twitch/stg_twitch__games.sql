{#- One row per Twitch game id with its latest name. -#}
with

source as (

    select * from {{ source('twitch', 'games') }}

),

deduplicated as (

    select
        *,
        row_number() over (
            partition by game_id
            order by observed_at desc, _dlt_load_id desc
        ) as row_num
    from source
    where nullif(trim(game_id), '') is not null

),

final as (

    select
        cast('twitch' as {{ dbt.type_string() }}) as platform,
        cast(trim(game_id) as {{ dbt.type_string() }}) as category_id,
        game_name as category_name,
        box_art_url,
        nullif(trim(igdb_id), '') as igdb_id,
        poll_id,
        {{ to_utc('observed_at') }} as observed_at
    from deduplicated
    where row_num = 1

)

select * from final
