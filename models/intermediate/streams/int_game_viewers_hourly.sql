{{
    config(
        materialized='incremental',
        incremental_strategy='window_replace',
        incremental_predicates=[window_predicate('hour_at', 'hour_at', trunc='hour')],
        on_schema_change='append_new_columns',
    )
}}
{#-
    Audience of each canonical game per streaming platform and UTC hour,
    plus platform = 'all' rows (the three platforms together): the game
    grain of int_category_viewers_polled, which the game facts read. See
    docs `game_audience_metrics` for the measures.

    Incremental: each run replaces the UTC hours from var('lookback_hours')
    before the newest hour built.
-#}

with

category_viewers_polled as (

    select * from {{ ref('int_category_viewers_polled') }}
    {%- if is_incremental() %}
        where hour_at >= {{ window_start('hour_at', trunc='hour') }}
    {%- endif %}

),

per_poll as (

    {#- The game's audience at each poll of a platform (all its categories). #}
    select
        platform,
        game_key,
        hour_at,
        observed_at,
        poll_slot_at,
        max(poll_count) as poll_count,
        sum(viewer_count) as viewer_count,
        sum(channel_count) as channel_count
    from category_viewers_polled
    where game_key is not null
    group by
        platform,
        game_key,
        hour_at,
        observed_at,
        poll_slot_at

),

platform_hourly as (

    select
        game_key,
        platform,
        hour_at,
        1.0 * sum(viewer_count) / max(poll_count) as avg_viewers,
        max(viewer_count) as peak_viewers,
        1.0 * sum(channel_count) / max(poll_count) as avg_channels,
        max(channel_count) as peak_channels,
        {{ airtime_hours('sum(channel_count)') }} as airtime_hours,
        {{ hours_watched('sum(viewer_count)') }} as hours_watched
    from per_poll
    group by
        game_key,
        platform,
        hour_at

),

slot_totals as (

    select
        game_key,
        hour_at,
        poll_slot_at,
        sum(viewer_count) as viewer_count,
        sum(channel_count) as channel_count
    from per_poll
    group by
        game_key,
        hour_at,
        poll_slot_at

),

slot_peaks as (

    select
        game_key,
        hour_at,
        max(viewer_count) as peak_viewers,
        max(channel_count) as peak_channels
    from slot_totals
    group by
        game_key,
        hour_at

),

all_platforms_hourly as (

    select
        platform_hourly.game_key,
        'all' as platform,
        platform_hourly.hour_at,
        sum(platform_hourly.avg_viewers) as avg_viewers,
        max(slot_peaks.peak_viewers) as peak_viewers,
        sum(platform_hourly.avg_channels) as avg_channels,
        max(slot_peaks.peak_channels) as peak_channels,
        sum(platform_hourly.airtime_hours) as airtime_hours,
        sum(platform_hourly.hours_watched) as hours_watched
    from platform_hourly
    inner join slot_peaks
        on
            platform_hourly.game_key = slot_peaks.game_key
            and platform_hourly.hour_at = slot_peaks.hour_at
    group by
        platform_hourly.game_key,
        platform_hourly.hour_at

),

unioned as (

    select * from platform_hourly
    union all
    select * from all_platforms_hourly

),

final as (

    select
        cast(game_key as {{ dbt.type_string() }}) as game_key,
        cast(platform as {{ dbt.type_string() }}) as platform,
        hour_at,
        cast(avg_viewers as double precision) as avg_viewers,
        cast(peak_viewers as {{ dbt.type_bigint() }}) as peak_viewers,
        cast(avg_channels as double precision) as avg_channels,
        cast(peak_channels as {{ dbt.type_bigint() }}) as peak_channels,
        cast(airtime_hours as double precision) as airtime_hours,
        cast(hours_watched as double precision) as hours_watched
    from unioned

)

select * from final
