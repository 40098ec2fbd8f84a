{#- One row per (user_id, observed_at): a live SOOP broadcaster at one poll. -#}
with

source as (

    select * from {{ source('soop', 'broads') }}

),

deduplicated as (

    select
        *,
        row_number() over (
            partition by user_id, observed_at
            order by _dlt_load_id desc, _dlt_id desc
        ) as row_num
    from source

),

final as (

    select
        cast('soop' as {{ dbt.type_string() }}) as platform,
        user_id as channel_id,
        user_nick as channel_name,
        cast(broad_no as {{ dbt.type_string() }}) as stream_id,
        {{ to_utc('observed_at') }} as observed_at,
        poll_id,
        cast(total_view_cnt as {{ dbt.type_bigint() }}) as viewer_count,
        cast(
            {{ normalize_soop_category('broad_cate_no') }} as {{ dbt.type_string() }}
        ) as category_id,
        cast(null as {{ dbt.type_string() }}) as category_name,
        cast(null as {{ dbt.type_string() }}) as category_type,
        {{ to_utc('broad_started_at') }} as stream_started_at,
        broad_title as title,
        api_variant,
        cast(broad_grade as {{ dbt.type_int() }}) as broad_grade,
        cast(is_password as boolean) as is_password
    from deduplicated
    where row_num = 1

)

select * from final
