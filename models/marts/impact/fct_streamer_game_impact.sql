{#-
    One row per event "a streamer starts streaming a Steam game" (a spell of
    int_streamer_game_spells on a category with a Steam app), with the
    game's players after the start against a seasonal, trend-adjusted
    baseline. Method: docs block `streamer_impact_method`.
-#}
{#- (int defaults apply only where vars are not numbers, e.g. sqlfluff) #}
{%- set pre_hours = var('impact_pre_hours') | int(3) %}
{%- set post_hours = var('impact_post_hours') | int(2) %}
{%- set baseline_days = var('impact_baseline_days') | int(7) %}

with

start_events as (

    select * from {{ ref('int_impact_start_events') }}

),

players_hourly as (

    select * from {{ ref('int_steam_players_hourly') }}

),

category_viewers as (

    select * from {{ ref('int_category_viewers_hourly') }}

),

game_viewers as (

    {#- Audience of the app on all platforms together, per UTC hour. #}
    select
        steam_appid,
        hour_at,
        sum(avg_viewers) as avg_viewers
    from category_viewers
    where steam_appid is not null
    group by
        steam_appid,
        hour_at

),

events as {{ materialized_cte() }} (

    select
        event_id,
        platform,
        channel_id,
        game_key,
        steam_appid,
        started_at,
        {{ dbt.date_trunc('hour', 'started_at') }} as start_hour_at,
        streamer_avg_viewers
    from start_events

),

offsets as (

    {#- (day_lag, hour_offset): day 0 is the event's day, 1.. the days before. #}
    {%- for day_lag in range(baseline_days + 1) %}
        {%- for hour_offset in range(-pre_hours, post_hours + 1) if hour_offset != 0 %}
            select
                {{ day_lag }} as day_lag,
                {{ hour_offset }} as hour_offset,
                {{ "'post'" if hour_offset > 0 else "'pre'" }} as window_name
            {%- if not loop.last %}
                union all
            {%- endif %}
        {%- endfor %}
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}

),

event_hours as (

    select
        events.event_id,
        events.steam_appid,
        offsets.day_lag,
        offsets.window_name,
        {{ dbt.dateadd(
            'hour',
            'offsets.hour_offset - 24 * offsets.day_lag',
            'events.start_hour_at'
        ) }} as hour_at
    from events
    cross join offsets

),

event_hour_values as (

    select
        event_hours.event_id,
        event_hours.day_lag,
        event_hours.window_name,
        players_hourly.avg_players,
        coalesce(game_viewers.avg_viewers, 0) as game_viewers
    from event_hours
    inner join players_hourly
        on
            event_hours.steam_appid = players_hourly.steam_appid
            and event_hours.hour_at = players_hourly.hour_at
    left join game_viewers
        on
            event_hours.steam_appid = game_viewers.steam_appid
            and event_hours.hour_at = game_viewers.hour_at

),

daily_windows as {{ materialized_cte() }} (

    {#- One row per event and day with complete pre and post windows. #}
    select
        event_id,
        day_lag,
        avg(case when window_name = 'pre' then avg_players end) as pre_players,
        avg(case when window_name = 'post' then avg_players end) as post_players,
        avg(case when window_name = 'post' then game_viewers end) as post_game_viewers
    from event_hour_values
    group by
        event_id,
        day_lag
    having
        sum(case when window_name = 'pre' then 1 else 0 end) = {{ pre_hours }}
        and sum(case when window_name = 'post' then 1 else 0 end) = {{ post_hours }}

),

event_day as (

    select * from daily_windows
    where day_lag = 0

),

baseline_days as (

    select
        event_day.event_id,
        daily_windows.day_lag,
        {#- this day's post/pre ratio applied to the event day's pre level #}
        event_day.pre_players * daily_windows.post_players
        / nullif(daily_windows.pre_players, 0) as predicted_post_players,
        daily_windows.post_game_viewers
    from event_day
    inner join daily_windows
        on
            event_day.event_id = daily_windows.event_id
            and daily_windows.day_lag > 0
    where daily_windows.pre_players > 0

),

baselines as (

    select
        event_id,
        count(*) as baseline_day_count,
        avg(predicted_post_players) as baseline_players,
        stddev_samp(predicted_post_players) as baseline_spread,
        avg(post_game_viewers) as baseline_game_viewers
    from baseline_days
    group by event_id

),

lifts as (

    select
        events.event_id,
        events.platform,
        events.channel_id,
        events.game_key,
        events.steam_appid,
        events.started_at,
        events.streamer_avg_viewers,
        event_day.pre_players,
        event_day.post_players,
        baselines.baseline_players,
        baselines.baseline_day_count,
        event_day.post_players - baselines.baseline_players as lift_players,
        {#- a single day's prediction error, from the spread between days #}
        baselines.baseline_spread
        * sqrt(1.0 + 1.0 / baselines.baseline_day_count) as lift_stderr_players,
        event_day.post_game_viewers,
        greatest(
            0,
            event_day.post_game_viewers
            - events.streamer_avg_viewers
            - baselines.baseline_game_viewers
        ) as other_added_viewers
    from events
    inner join event_day
        on events.event_id = event_day.event_id
    inner join baselines
        on events.event_id = baselines.event_id
    where baselines.baseline_day_count >= {{ var('impact_min_baseline_days') }}

),

final as (

    select
        cast(event_id as {{ dbt.type_string() }}) as event_id,
        cast(platform as {{ dbt.type_string() }}) as platform,
        cast(channel_id as {{ dbt.type_string() }}) as channel_id,
        cast(game_key as {{ dbt.type_string() }}) as game_key,
        cast(steam_appid as {{ dbt.type_bigint() }}) as steam_appid,
        cast(started_at as {{ dbt.type_timestamp() }}) as started_at,
        cast(streamer_avg_viewers as {{ dbt.type_float() }}) as streamer_avg_viewers,
        cast(pre_players as {{ dbt.type_float() }}) as pre_players,
        cast(post_players as {{ dbt.type_float() }}) as post_players,
        cast(baseline_players as {{ dbt.type_float() }}) as baseline_players,
        cast(baseline_day_count as {{ dbt.type_int() }}) as baseline_day_count,
        cast(lift_players as {{ dbt.type_float() }}) as lift_players,
        cast(lift_stderr_players as {{ dbt.type_float() }}) as lift_stderr_players,
        cast(other_added_viewers as {{ dbt.type_float() }}) as other_added_viewers,
        cast(
            streamer_avg_viewers / (streamer_avg_viewers + other_added_viewers)
            as {{ dbt.type_float() }}
        ) as attribution_share,
        cast(
            1000.0 * lift_players / (streamer_avg_viewers + other_added_viewers)
            as {{ dbt.type_float() }}
        ) as lift_per_1000_viewers,
        coalesce(other_added_viewers > streamer_avg_viewers, false) as is_overlapping,
        cast(
            case
                when lift_stderr_players is null then 'low'
                when abs(lift_players) >= 2 * lift_stderr_players then 'high'
                when abs(lift_players) >= lift_stderr_players then 'medium'
                else 'low'
            end as {{ dbt.type_string() }}
        ) as confidence
    from lifts
    where streamer_avg_viewers > 0

)

select * from final
