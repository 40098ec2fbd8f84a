{#- One row per (appid, observed_at): concurrent players of a Steam app. -#}
with

source as (

    select * from {{ source('steam', 'current_players') }}

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
        cast(case when result = 1 then player_count end as {{ dbt.type_bigint() }})
            as player_count,
        cast(result as {{ dbt.type_int() }}) as result_code,
        coalesce(result = 1 and player_count is not null, false) as is_success
    from deduplicated
    where row_num = 1

)

select * from final
