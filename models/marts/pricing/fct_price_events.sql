{#-
    One row per discount event of a Steam app (start, end or change of the
    discount between two consecutive price periods), with the lift of the
    event on Steam players and on stream viewers (all platforms). Windows and
    formulas: docs block `price_effects` in _pricing__docs.md.
-#}
{%- set window_hours = var('price_effect_window_hours') | int(24) %}
{%- set baseline_days = var('price_effect_baseline_days') | int(3) %}
{%- set min_hours = var('price_effect_min_hours') | int(6) %}
{%- set float_type = 'double precision' %}

with

price_periods as (

    select * from {{ ref('int_steam_price_periods') }}

),

players_hourly as (

    select * from {{ ref('int_steam_players_hourly') }}

),

category_viewers_polled as (

    select * from {{ ref('int_category_viewers_polled') }}

),

app_viewers_hourly as (

    select * from {{ ref('int_app_viewers_hourly') }}

),

with_previous as (

    select
        steam_appid,
        game_key,
        valid_from,
        initial_price_krw,
        final_price_krw,
        discount_percent,
        lag(discount_percent) over (
            partition by steam_appid
            order by valid_from
        ) as discount_percent_before,
        lag(final_price_krw) over (
            partition by steam_appid
            order by valid_from
        ) as price_before_krw,
        lag(last_observed_at) over (
            partition by steam_appid
            order by valid_from
        ) as previous_observed_at
    from price_periods

),

events as (

    select
        {{ surrogate_key(['steam_appid', 'valid_from']) }} as price_event_id,
        steam_appid,
        game_key,
        case
            when discount_percent_before = 0 then 'discount_start'
            when discount_percent = 0 then 'discount_end'
            else 'discount_change'
        end as event_type,
        valid_from as event_at,
        previous_observed_at,
        {{ dbt.date_trunc('hour', 'valid_from') }} as event_hour,
        case
            when discount_percent = 0 then discount_percent_before
            else discount_percent
        end as discount_percent,
        discount_percent_before,
        discount_percent as discount_percent_after,
        initial_price_krw,
        price_before_krw,
        final_price_krw as price_after_krw
    from with_previous
    where
        discount_percent_before is not null
        and discount_percent_before <> discount_percent

),

events_with_neighbours as (

    select
        *,
        lag(event_at) over (
            partition by steam_appid
            order by event_at
        ) as previous_event_at,
        lead(event_at) over (
            partition by steam_appid
            order by event_at
        ) as next_event_at
    from events

),

event_apps as (

    select distinct steam_appid from events

),

player_series as (

    select
        players_hourly.steam_appid,
        players_hourly.hour_at,
        players_hourly.avg_players as metric_value
    from players_hourly
    inner join event_apps
        on players_hourly.steam_appid = event_apps.steam_appid

),

{# Hours at which any platform was polled: a game absent then had 0 viewers. #}
stream_hours as (

    select distinct hour_at from category_viewers_polled

),

app_viewers as (

    select
        steam_appid,
        hour_at,
        avg_viewers as viewers
    from app_viewers_hourly

),

streamed_event_apps as (

    select event_apps.steam_appid
    from event_apps
    where event_apps.steam_appid in (select app_viewers.steam_appid from app_viewers)

),

viewer_series as (

    select
        streamed_event_apps.steam_appid,
        stream_hours.hour_at,
        coalesce(app_viewers.viewers, 0) as metric_value
    from streamed_event_apps
    cross join stream_hours
    left join app_viewers
        on
            streamed_event_apps.steam_appid = app_viewers.steam_appid
            and stream_hours.hour_at = app_viewers.hour_at

),

series as (

    select
        'players' as measure,
        steam_appid,
        hour_at,
        metric_value
    from player_series
    union all
    select
        'viewers' as measure,
        steam_appid,
        hour_at,
        metric_value
    from viewer_series

),

{# Window: the full hours after the event's hour, up to window_hours. #}
after_hours as (

    select
        events.price_event_id,
        events.event_hour,
        series.measure,
        series.steam_appid,
        series.hour_at,
        series.metric_value
    from events
    inner join series
        on
            events.steam_appid = series.steam_appid
            and events.event_hour < series.hour_at
            and series.hour_at <= {{ dbt.dateadd('hour', window_hours, 'events.event_hour') }}

),

days_back as (

    {%- for day in range(1, baseline_days + 1) %}
        select {{ day }} as days_back
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}

),

{# Baseline of an after-hour: the same clock hour on the previous days, before the event. #}
baseline_hours as (

    select
        after_hours.price_event_id,
        after_hours.measure,
        after_hours.hour_at,
        avg(series.metric_value) as baseline_value
    from after_hours
    cross join days_back
    inner join series
        on
            after_hours.steam_appid = series.steam_appid
            and after_hours.measure = series.measure
            and series.hour_at = {{ dbt.dateadd(
                'hour', '-24 * days_back.days_back', 'after_hours.hour_at'
            ) }}
    where series.hour_at < after_hours.event_hour
    group by
        after_hours.price_event_id,
        after_hours.measure,
        after_hours.hour_at

),

lifts as (

    select
        after_hours.price_event_id,
        after_hours.measure,
        count(*) as matched_hours,
        avg(after_hours.metric_value) as after_avg,
        avg(baseline_hours.baseline_value) as baseline_avg
    from after_hours
    inner join baseline_hours
        on
            after_hours.price_event_id = baseline_hours.price_event_id
            and after_hours.measure = baseline_hours.measure
            and after_hours.hour_at = baseline_hours.hour_at
    group by
        after_hours.price_event_id,
        after_hours.measure

),

usable_lifts as (

    select
        price_event_id,
        measure,
        matched_hours,
        case when matched_hours >= {{ min_hours }} then after_avg end as after_avg,
        case when matched_hours >= {{ min_hours }} then baseline_avg end as baseline_avg
    from lifts

),

final as (

    select
        cast(events.price_event_id as {{ dbt.type_string() }}) as price_event_id,
        events.steam_appid,
        cast(events.game_key as {{ dbt.type_string() }}) as game_key,
        cast(events.event_type as {{ dbt.type_string() }}) as event_type,
        events.event_at,
        events.previous_observed_at,
        cast(events.discount_percent as {{ dbt.type_int() }}) as discount_percent,
        cast(events.discount_percent_before as {{ dbt.type_int() }}) as discount_percent_before,
        cast(events.discount_percent_after as {{ dbt.type_int() }}) as discount_percent_after,
        cast(events.initial_price_krw as {{ dbt.type_numeric() }}) as initial_price_krw,
        cast(events.price_before_krw as {{ dbt.type_numeric() }}) as price_before_krw,
        cast(events.price_after_krw as {{ dbt.type_numeric() }}) as price_after_krw,
        (
            events.previous_event_at is null
            or events.previous_event_at
            < {{ dbt.dateadd('day', -baseline_days, 'events.event_hour') }}
        )
        and (
            events.next_event_at is null
            or events.next_event_at
            >= {{ dbt.dateadd('hour', window_hours + 1, 'events.event_hour') }}
        ) as is_isolated,
        cast(coalesce(players.matched_hours, 0) as {{ dbt.type_int() }})
            as players_matched_hours,
        cast(players.after_avg as {{ float_type }}) as players_after_avg,
        cast(players.baseline_avg as {{ float_type }}) as players_baseline_avg,
        cast(players.after_avg - players.baseline_avg as {{ float_type }}) as players_lift,
        cast(
            100.0 * (players.after_avg - players.baseline_avg)
            / nullif(players.baseline_avg, 0) as {{ float_type }}
        ) as players_lift_pct,
        cast(coalesce(viewers.matched_hours, 0) as {{ dbt.type_int() }})
            as viewers_matched_hours,
        cast(viewers.after_avg as {{ float_type }}) as viewers_after_avg,
        cast(viewers.baseline_avg as {{ float_type }}) as viewers_baseline_avg,
        cast(viewers.after_avg - viewers.baseline_avg as {{ float_type }}) as viewers_lift,
        cast(
            100.0 * (viewers.after_avg - viewers.baseline_avg)
            / nullif(viewers.baseline_avg, 0) as {{ float_type }}
        ) as viewers_lift_pct
    from events_with_neighbours as events
    left join usable_lifts as players
        on
            events.price_event_id = players.price_event_id
            and players.measure = 'players'
    left join usable_lifts as viewers
        on
            events.price_event_id = viewers.price_event_id
            and viewers.measure = 'viewers'

)

select * from final
