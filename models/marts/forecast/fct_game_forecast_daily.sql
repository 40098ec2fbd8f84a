{#-
    Next-day forecast per game, UTC day and metric (Steam players avg/peak,
    stream viewers avg, hours watched): seasonal naive times a trend factor,
    computed for every past day as well (each from the days before it only),
    with the actual value and the error beside it. Method: docs block
    `game_forecast` in _forecast__docs.md.
-#}
{%- set trend_days = var('forecast_trend_days') | int(3) %}
{%- set trend_min = var('forecast_trend_min') | float(0.5) %}
{%- set trend_max = var('forecast_trend_max') | float(2.0) %}
{%- set min_day_hours = var('forecast_min_day_hours') | int(20) %}
{%- set float_type = 'double precision' %}

with

steam_players_daily as (

    select * from {{ ref('int_steam_players_daily') }}

),

category_viewers_hourly as (

    select * from {{ ref('int_category_viewers_hourly') }}

),

game_viewers_hourly as (

    select * from {{ ref('int_game_viewers_hourly') }}
    where platform = 'all'

),

players_daily as (

    select
        game_key,
        player_date as metric_date,
        hour_count,
        avg_players as players_avg,
        peak_players as players_peak
    from steam_players_daily

),

{# Hours of a day at which the stream platforms were polled. #}
stream_days as (

    select
        cast({{ dbt.date_trunc('day', 'hour_at') }} as date) as metric_date,
        count(distinct hour_at) as hour_count
    from category_viewers_hourly
    group by cast({{ dbt.date_trunc('day', 'hour_at') }} as date)

),

game_viewers_daily as (

    select
        game_key,
        cast({{ dbt.date_trunc('day', 'hour_at') }} as date) as metric_date,
        sum(avg_viewers) as viewer_hours,
        sum(hours_watched) as hours_watched
    from game_viewers_hourly
    group by
        game_key,
        cast({{ dbt.date_trunc('day', 'hour_at') }} as date)

),

stream_games as (

    select distinct game_key from game_viewers_daily

),

{# A game absent from the streams of a polled day had 0 viewers that day. #}
viewers_daily as (

    select
        stream_games.game_key,
        stream_days.metric_date,
        stream_days.hour_count,
        coalesce(game_viewers_daily.viewer_hours, 0) / stream_days.hour_count as viewers_avg,
        coalesce(game_viewers_daily.hours_watched, 0) as hours_watched
    from stream_games
    cross join stream_days
    left join game_viewers_daily
        on
            stream_games.game_key = game_viewers_daily.game_key
            and stream_days.metric_date = game_viewers_daily.metric_date

),

actuals as (

    select
        game_key,
        metric_date,
        'players_avg' as metric,
        players_avg as metric_value,
        hour_count >= {{ min_day_hours }} as is_complete
    from players_daily
    where players_avg is not null
    union all
    select
        game_key,
        metric_date,
        'players_peak' as metric,
        players_peak as metric_value,
        hour_count >= {{ min_day_hours }} as is_complete
    from players_daily
    where players_peak is not null
    union all
    select
        game_key,
        metric_date,
        'viewers_avg' as metric,
        viewers_avg as metric_value,
        hour_count >= {{ min_day_hours }} as is_complete
    from viewers_daily
    union all
    select
        game_key,
        metric_date,
        'hours_watched' as metric,
        hours_watched as metric_value,
        hour_count >= {{ min_day_hours }} as is_complete
    from viewers_daily

),

{# Only complete days feed a forecast. #}
history as (

    select * from actuals
    where is_complete

),

series_keys as (

    select distinct
        game_key,
        metric
    from actuals

),

{# Every collected day after the first, and the day after the last complete one. #}
forecast_dates as (

    select distinct metric_date as forecast_date
    from actuals
    where metric_date > (select min(first_day.metric_date) from actuals as first_day)
    union
    select cast({{ dbt.dateadd('day', 1, 'max(metric_date)') }} as date) as forecast_date
    from history

),

targets as (

    select
        series_keys.game_key,
        series_keys.metric,
        forecast_dates.forecast_date
    from series_keys
    cross join forecast_dates

),

{# Seasons: the same weekday last week, else yesterday. #}
seasons as (

    select 7 as season_lag_days
    union all
    select 1 as season_lag_days

),

reference_values as (

    select
        targets.game_key,
        targets.metric,
        targets.forecast_date,
        seasons.season_lag_days,
        history.metric_value as reference_value
    from targets
    cross join seasons
    inner join history
        on
            targets.game_key = history.game_key
            and targets.metric = history.metric
            and history.metric_date = cast(
                {{ dbt.dateadd('day', '-seasons.season_lag_days', 'targets.forecast_date') }}
                as date
            )

),

chosen_seasons as (

    select
        game_key,
        metric,
        forecast_date,
        max(season_lag_days) as season_lag_days
    from reference_values
    group by
        game_key,
        metric,
        forecast_date

),

{#
    Trend: the last trend_days days before the forecast date against the
    same days one season earlier, over the days where both are known.
#}
trend_pairs as (

    select
        chosen_seasons.game_key,
        chosen_seasons.metric,
        chosen_seasons.forecast_date,
        count(*) as trend_pair_days,
        sum(recent.metric_value) as recent_sum,
        sum(earlier.metric_value) as earlier_sum
    from chosen_seasons
    inner join history as recent
        on
            chosen_seasons.game_key = recent.game_key
            and chosen_seasons.metric = recent.metric
            and chosen_seasons.forecast_date > recent.metric_date
            and recent.metric_date >= cast(
                {{ dbt.dateadd('day', -trend_days, 'chosen_seasons.forecast_date') }} as date
            )
    inner join history as earlier
        on
            recent.game_key = earlier.game_key
            and recent.metric = earlier.metric
            and earlier.metric_date = cast(
                {{ dbt.dateadd('day', '-chosen_seasons.season_lag_days', 'recent.metric_date') }}
                as date
            )
    group by
        chosen_seasons.game_key,
        chosen_seasons.metric,
        chosen_seasons.forecast_date

),

forecasts as (

    select
        chosen_seasons.game_key,
        chosen_seasons.metric,
        chosen_seasons.forecast_date,
        chosen_seasons.season_lag_days,
        case
            when chosen_seasons.season_lag_days = 7 then 'seasonal_naive_weekly'
            else 'naive_previous_day'
        end as forecast_method,
        reference_values.reference_value,
        coalesce(trend_pairs.trend_pair_days, 0) as trend_pair_days,
        least(
            greatest(
                coalesce(trend_pairs.recent_sum / nullif(trend_pairs.earlier_sum, 0), 1.0),
                {{ trend_min }}
            ),
            {{ trend_max }}
        ) as trend_factor
    from chosen_seasons
    inner join reference_values
        on
            chosen_seasons.game_key = reference_values.game_key
            and chosen_seasons.metric = reference_values.metric
            and chosen_seasons.forecast_date = reference_values.forecast_date
            and chosen_seasons.season_lag_days = reference_values.season_lag_days
    left join trend_pairs
        on
            chosen_seasons.game_key = trend_pairs.game_key
            and chosen_seasons.metric = trend_pairs.metric
            and chosen_seasons.forecast_date = trend_pairs.forecast_date

),

final as (

    select
        cast(
            {{ surrogate_key([
                'forecasts.game_key', 'forecasts.forecast_date', 'forecasts.metric',
            ]) }}
            as {{ dbt.type_string() }}
        ) as forecast_id,
        cast(forecasts.game_key as {{ dbt.type_string() }}) as game_key,
        forecasts.forecast_date,
        cast(forecasts.metric as {{ dbt.type_string() }}) as metric,
        cast(forecasts.forecast_method as {{ dbt.type_string() }}) as forecast_method,
        cast(forecasts.season_lag_days as {{ dbt.type_int() }}) as season_lag_days,
        cast(
            {{ dbt.dateadd('day', '-forecasts.season_lag_days', 'forecasts.forecast_date') }}
            as date
        ) as reference_date,
        cast(forecasts.reference_value as {{ float_type }}) as reference_value,
        cast(forecasts.trend_pair_days as {{ dbt.type_int() }}) as trend_pair_days,
        cast(forecasts.trend_factor as {{ float_type }}) as trend_factor,
        cast(forecasts.reference_value * forecasts.trend_factor as {{ float_type }})
            as forecast_value,
        cast(actuals.metric_value as {{ float_type }}) as actual_value,
        coalesce(actuals.is_complete, false) as is_actual_complete,
        cast(
            case
                when actuals.is_complete
                    then forecasts.reference_value * forecasts.trend_factor - actuals.metric_value
            end as {{ float_type }}
        ) as forecast_error,
        cast(
            case
                when actuals.is_complete
                    then abs(
                        forecasts.reference_value * forecasts.trend_factor
                        - actuals.metric_value
                    )
            end as {{ float_type }}
        ) as abs_error,
        cast(
            case
                when actuals.is_complete and actuals.metric_value > 0
                    then 100.0 * abs(
                        forecasts.reference_value * forecasts.trend_factor
                        - actuals.metric_value
                    ) / actuals.metric_value
            end as {{ float_type }}
        ) as abs_pct_error
    from forecasts
    left join actuals
        on
            forecasts.game_key = actuals.game_key
            and forecasts.metric = actuals.metric
            and forecasts.forecast_date = actuals.metric_date

)

select * from final
