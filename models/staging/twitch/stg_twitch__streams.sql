{#- One row per (user_id, observed_at): a live Twitch channel at one poll. -#}
with

source as (

    select * from {{ source('twitch', 'streams') }}

),

deduplicated as (

    select
        *,
        row_number() over (
            partition by user_id, observed_at
            order by _dlt_load_id desc, viewer_count desc, _dlt_id desc
        ) as row_num
    from source

),

final as (

    select
        cast('twitch' as {{ dbt.type_string() }}) as platform,
        user_id as channel_id,
        user_name as channel_name,
        stream_id,
        {{ to_utc('observed_at') }} as observed_at,
        poll_id,
        cast(viewer_count as {{ dbt.type_bigint() }}) as viewer_count,
        nullif(trim(game_id), '') as category_id,
        nullif(trim(game_name), '') as category_name,
        cast(null as {{ dbt.type_string() }}) as category_type,
        {{ to_utc('started_at') }} as stream_started_at,
        title,
        user_login as channel_login,
        language,
        cast(is_mature as boolean) as is_mature
    from deduplicated
    where row_num = 1

)

select * from final
