{{
    config(
        materialized='incremental',
        incremental_strategy='window_replace',
        incremental_predicates=[window_predicate('hour_at', 'hour_at', trunc='hour')],
        on_schema_change='append_new_columns',
    )
}}
{#-
    Stream audience of each Steam app per UTC hour, all streaming platforms
    and categories together: the sum of the hourly average viewers of the
    categories mapped to the app (seeded games and Steam apps the name
    matcher found alike). Hours without a live channel of the app have no
    row (0 viewers).

    Incremental: each run replaces the UTC hours from var('lookback_hours')
    before the newest hour built.
-#}

with

category_viewers_hourly as (

    select * from {{ ref('int_category_viewers_hourly') }}
    where
        steam_appid is not null
        {%- if is_incremental() %}
            and hour_at >= {{ window_start('hour_at', trunc='hour') }}
        {%- endif %}

),

final as (

    select
        steam_appid,
        hour_at,
        sum(avg_viewers) as avg_viewers,
        sum(hours_watched) as hours_watched
    from category_viewers_hourly
    group by
        steam_appid,
        hour_at

)

select * from final
