{{
    config(
        materialized='incremental',
        unique_key='game_day_id',
        incremental_strategy='window_replace',
        incremental_predicates=[day_window_predicate('game_date', 'polled_hours')],
        on_schema_change='append_new_columns',
    )
}}
{{ config(dist='game_key', sort=['game_date', 'platform']) if target.type == 'redshift' }}
{#-
    fct_game_hourly rolled up to UTC days, per game and platform ('all'
    included). Averages are over the hours the platform was polled that day
    (hours without the game count as zero), so a partly observed day is not
    diluted; Steam players and the discount are per game, the same on every
    platform row. Incremental: each run rebuilds the newest built day, and
    the day before it when the newest had at most var('lookback_hours')
    polled hours (the look-back reaches into it).
-#}
{%- set day_filter -%}
    >= {{ day_window_start('game_date', hours_column='polled_hours') }}
{%- endset %}

with

hourly as (

    select * from {{ ref('fct_game_hourly') }}
    {%- if is_incremental() %}
        where hour_date {{ day_filter }}
    {%- endif %}

),

observations as (

    select * from {{ ref('int_stream_observations_unioned') }}
    {%- if is_incremental() %}
        where cast(observed_hour as date) {{ day_filter }}
    {%- endif %}

),

polled_hours as (

    select distinct
        platform,
        observed_hour
    from observations

    union all

    select distinct
        'all' as platform,
        observed_hour
    from observations

),

polled_hours_daily as (

    select
        platform,
        cast(observed_hour as date) as game_date,
        count(*) as polled_hours
    from polled_hours
    group by
        platform,
        cast(observed_hour as date)

),

steam_daily as (

    select
        game_key,
        hour_date as game_date,
        avg(steam_avg_players) as steam_avg_players,
        max(steam_peak_players) as steam_peak_players,
        max(discount_percent) as discount_percent
    from hourly
    where platform = 'all'
    group by
        game_key,
        hour_date

),

daily as (

    select
        game_key,
        platform,
        hour_date as game_date,
        count(*) as live_hours,
        sum(avg_viewers) as avg_viewers_sum,
        max(peak_viewers) as peak_viewers,
        sum(avg_channels) as avg_channels_sum,
        max(peak_channels) as peak_channels,
        sum(airtime_hours) as airtime_hours,
        sum(hours_watched) as hours_watched
    from hourly
    group by
        game_key,
        platform,
        hour_date

),

final as (

    select
        cast(
            {{ surrogate_key(['daily.game_key', 'daily.platform', 'daily.game_date']) }}
            as {{ dbt.type_string() }}
        ) as game_day_id,
        cast(daily.game_key as {{ dbt.type_string() }}) as game_key,
        cast(daily.platform as {{ dbt.type_string() }}) as platform,
        cast(daily.game_date as date) as game_date,
        cast(coalesce(polled_hours_daily.polled_hours, 0) as {{ dbt.type_int() }})
            as polled_hours,
        cast(
            daily.avg_viewers_sum / nullif(polled_hours_daily.polled_hours, 0)
            as double precision
        ) as avg_viewers,
        cast(daily.peak_viewers as {{ dbt.type_bigint() }}) as peak_viewers,
        cast(
            daily.avg_channels_sum / nullif(polled_hours_daily.polled_hours, 0)
            as double precision
        ) as avg_channels,
        cast(daily.peak_channels as {{ dbt.type_bigint() }}) as peak_channels,
        cast(daily.airtime_hours as double precision) as airtime_hours,
        cast(daily.hours_watched as double precision) as hours_watched,
        cast(
            daily.avg_viewers_sum / nullif(daily.avg_channels_sum, 0) as double precision
        ) as viewer_ratio,
        cast(steam_daily.steam_avg_players as double precision) as steam_avg_players,
        cast(steam_daily.steam_peak_players as {{ dbt.type_bigint() }}) as steam_peak_players,
        cast(
            daily.avg_viewers_sum
            / nullif(polled_hours_daily.polled_hours, 0)
            / nullif(steam_daily.steam_avg_players, 0)
            as double precision
        ) as viewer_to_player_ratio,
        cast(steam_daily.discount_percent as {{ dbt.type_int() }}) as discount_percent
    from daily
    left join polled_hours_daily
        on
            daily.platform = polled_hours_daily.platform
            and daily.game_date = polled_hours_daily.game_date
    left join steam_daily
        on
            daily.game_key = steam_daily.game_key
            and daily.game_date = steam_daily.game_date

)

select * from final
