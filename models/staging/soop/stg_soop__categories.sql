{#- One row per SOOP category number (8 digits): its name at the last poll. -#}
with

source as (

    select * from {{ source('soop', 'categories') }}

),

renamed as (

    select
        cast(
            {{ normalize_soop_category('category_no') }} as {{ dbt.type_string() }}
        ) as category_id,
        category_name,
        cast(view_cnt as {{ dbt.type_bigint() }}) as viewer_count,
        poll_id,
        {{ to_utc('observed_at') }} as observed_at,
        _dlt_load_id
    from source

),

deduplicated as (

    select
        *,
        row_number() over (
            partition by category_id
            order by observed_at desc, _dlt_load_id desc
        ) as row_num
    from renamed
    where category_id is not null

),

final as (

    select
        cast('soop' as {{ dbt.type_string() }}) as platform,
        category_id,
        category_name,
        viewer_count,
        poll_id,
        observed_at
    from deduplicated
    where row_num = 1

)

select * from final
