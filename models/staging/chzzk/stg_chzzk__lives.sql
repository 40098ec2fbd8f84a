{#- One row per (channel_id, observed_at): a live Chzzk channel at one poll. -#}
with

source as (

    select * from {{ source('chzzk', 'lives') }}

),

deduplicated as (

    select
        *,
        row_number() over (
            partition by channel_id, observed_at
            order by _dlt_load_id desc, _dlt_id desc
        ) as row_num
    from source

),

renamed as (

    select
        cast('chzzk' as {{ dbt.type_string() }}) as platform,
        channel_id,
        channel_name,
        cast(live_id as {{ dbt.type_string() }}) as stream_id,
        {{ to_utc('observed_at') }} as observed_at,
        poll_id,
        cast(concurrent_user_count as {{ dbt.type_bigint() }}) as viewer_count,
        nullif(trim(live_category), '') as category_id,
        nullif(trim(live_category_value), '') as category_name,
        cast(lower(category_type) as {{ dbt.type_string() }}) as category_type,
        {{ to_utc('opened_at') }} as stream_started_at,
        live_title as title,
        api_variant,
        cast(is_adult as boolean) as is_adult
    from deduplicated
    where row_num = 1

),

final as (

    select * from renamed

)

select * from final
