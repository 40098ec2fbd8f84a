{#- One row per (appid, observed_at): a Steam app's review summary. -#}
with

source as (

    select * from {{ source('steam', 'reviews') }}

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
        cast(review_score as {{ dbt.type_int() }}) as review_score,
        review_score_desc,
        cast(total_positive as {{ dbt.type_bigint() }}) as total_positive,
        cast(total_negative as {{ dbt.type_bigint() }}) as total_negative,
        cast(total_reviews as {{ dbt.type_bigint() }}) as total_reviews,
        cast(
            case
                when total_positive + total_negative > 0
                    then 1.0 * total_positive / (total_positive + total_negative)
            end as {{ dbt.type_float() }}
        ) as positive_ratio
    from deduplicated
    where row_num = 1

)

select * from final
