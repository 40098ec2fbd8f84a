{#- One row per Chzzk channel: its profile at the last poll that saw it. -#}
with

source as (

    select * from {{ source('chzzk', 'channels') }}

),

deduplicated as (

    select
        *,
        row_number() over (
            partition by channel_id
            order by observed_at desc, _dlt_load_id desc
        ) as row_num
    from source

),

final as (

    select
        cast('chzzk' as {{ dbt.type_string() }}) as platform,
        channel_id,
        channel_name,
        channel_type,
        cast(verified_mark as boolean) as is_verified,
        cast(follower_count as {{ dbt.type_bigint() }}) as follower_count,
        cast(open_live as boolean) as is_live,
        poll_id,
        {{ to_utc('observed_at') }} as observed_at
    from deduplicated
    where row_num = 1

)

select * from final
