{#-
    The actuals beside the forecasts reconcile with silver: a game's daily
    hours watched is the sum of its hourly hours watched over all platforms,
    and its daily peak players is the highest hourly peak. Returns rows
    whose actual differs.
-#}
with

forecasts as (

    select * from {{ ref('fct_game_forecast_daily') }}

),

players_hourly as (

    select * from {{ ref('int_steam_players_hourly') }}

),

category_viewers_hourly as (

    select * from {{ ref('int_category_viewers_hourly') }}

),

silver_daily as (

    select
        game_key,
        cast({{ dbt.date_trunc('day', 'hour_at') }} as date) as metric_date,
        'hours_watched' as metric,
        sum(hours_watched) as silver_value
    from category_viewers_hourly
    where game_key is not null
    group by
        game_key,
        cast({{ dbt.date_trunc('day', 'hour_at') }} as date)
    union all
    select
        game_key,
        cast({{ dbt.date_trunc('day', 'hour_at') }} as date) as metric_date,
        'players_peak' as metric,
        max(peak_players) as silver_value
    from players_hourly
    where game_key is not null
    group by
        game_key,
        cast({{ dbt.date_trunc('day', 'hour_at') }} as date)

)

select
    forecasts.game_key,
    forecasts.forecast_date,
    forecasts.metric,
    forecasts.actual_value,
    silver_daily.silver_value
from forecasts
left join silver_daily
    on
        forecasts.game_key = silver_daily.game_key
        and forecasts.forecast_date = silver_daily.metric_date
        and forecasts.metric = silver_daily.metric
where
    forecasts.metric in ('hours_watched', 'players_peak')
    and forecasts.actual_value is not null
    and abs(forecasts.actual_value - coalesce(silver_daily.silver_value, 0))
    > 1e-6 * greatest(abs(forecasts.actual_value), 1)
