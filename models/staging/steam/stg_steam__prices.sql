{#-
    One row per (appid, observed_at): a Steam app's KRW price. The Store sends
    minor units and KRW is also x100, so won = minor units / 100.
-#}
with

source as (

    select * from {{ source('steam', 'prices') }}

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
        coalesce(cast(success as boolean), false) as is_success,
        coalesce(cast(is_free as boolean), false) as is_free,
        currency,
        cast(initial_price / 100.0 as {{ dbt.type_numeric() }}) as initial_price_krw,
        cast(final_price / 100.0 as {{ dbt.type_numeric() }}) as final_price_krw,
        cast(coalesce(discount_percent, 0) as {{ dbt.type_int() }}) as discount_percent,
        coalesce(discount_percent, 0) > 0 as is_discounted
    from deduplicated
    where row_num = 1

)

select * from final
