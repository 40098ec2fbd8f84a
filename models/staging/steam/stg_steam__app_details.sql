{#- One row per Steam app: its Store details at the last poll. -#}
with

source as (

    select * from {{ source('steam', 'app_details') }}

),

deduplicated as (

    select
        *,
        row_number() over (
            partition by appid
            order by observed_at desc, _dlt_load_id desc
        ) as row_num
    from source

),

final as (

    select
        cast(appid as {{ dbt.type_bigint() }}) as steam_appid,
        name as app_name,
        app_type,
        cast(is_free as boolean) as is_free,
        genres,
        categories,
        release_date_text,
        cast(coming_soon as boolean) as is_coming_soon,
        cast(required_age as {{ dbt.type_int() }}) as required_age,
        header_image,
        poll_id,
        {{ to_utc('observed_at') }} as observed_at
    from deduplicated
    where row_num = 1

)

select * from final
