{{
    config(
        materialized='incremental',
        unique_key='game_hour_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
    )
}}
{{ config(dist='game_key', sort=['hour_at', 'platform']) if target.type == 'redshift' }}
{#-
    Audience of each canonical game per streaming platform and UTC hour,
    plus platform = 'all' rows (the three platforms together; these rows
    also exist for hours with Steam players but no live channel). See docs
    `game_audience_metrics` for the measures. Incremental: each run rebuilds
    the hours from var('lookback_hours') before the newest hour already
    built (delete+insert on game_hour_id).
-#}
{%- set poll_minutes = var('poll_interval_minutes') %}
{%- set hour_filter -%}
    {%- if is_incremental() %}
        >= (
            select {{ dbt.dateadd('hour', -1 * var('lookback_hours'), 'max(hour_at)') }}
            from {{ this }}
        )
    {%- endif %}
{%- endset %}

with

observations as (

    select * from {{ ref('int_stream_observations_unioned') }}
    {%- if is_incremental() %}
        where observed_hour {{ hour_filter }}
    {%- endif %}

),

steam_players_hourly as (

    select * from {{ ref('int_steam_players_hourly') }}
    {%- if is_incremental() %}
        where hour_at {{ hour_filter }}
    {%- endif %}

),

steam_players as (

    select * from steam_players_hourly
    where game_key is not null

),

price_periods as (

    select * from {{ ref('int_steam_price_periods') }}
    where game_key is not null

),

platform_polls as (

    select
        platform,
        observed_hour,
        count(distinct observed_at) as poll_count
    from observations
    group by
        platform,
        observed_hour

),

per_poll as (

    {#-
        The game's audience at each poll of a platform; poll_slot_at puts
        the platforms' polls of one polling round (same poll interval) side
        by side for the cross-platform peaks.
    #}
    select
        platform,
        game_key,
        observed_hour,
        observed_at,
        {{ dbt.dateadd(
            'minute',
            'cast(floor(' ~ dbt.datediff('observed_hour', 'observed_at', 'minute')
                ~ ' / ' ~ poll_minutes ~ '.0) * ' ~ poll_minutes ~ ' as integer)',
            'observed_hour'
        ) }} as poll_slot_at,
        sum(viewer_count) as viewer_count,
        count(*) as channel_count
    from observations
    where game_key is not null
    group by
        platform,
        game_key,
        observed_hour,
        observed_at

),

platform_hourly as (

    select
        per_poll.game_key,
        per_poll.platform,
        per_poll.observed_hour as hour_at,
        1.0 * sum(per_poll.viewer_count) / max(platform_polls.poll_count) as avg_viewers,
        max(per_poll.viewer_count) as peak_viewers,
        1.0 * sum(per_poll.channel_count) / max(platform_polls.poll_count) as avg_channels,
        max(per_poll.channel_count) as peak_channels,
        sum(per_poll.channel_count) * {{ poll_minutes }} / 60.0 as airtime_hours,
        sum(per_poll.viewer_count) * {{ poll_minutes }} / 60.0 as hours_watched
    from per_poll
    inner join platform_polls
        on
            per_poll.platform = platform_polls.platform
            and per_poll.observed_hour = platform_polls.observed_hour
    group by
        per_poll.game_key,
        per_poll.platform,
        per_poll.observed_hour

),

slot_totals as (

    select
        game_key,
        observed_hour,
        poll_slot_at,
        sum(viewer_count) as viewer_count,
        sum(channel_count) as channel_count
    from per_poll
    group by
        game_key,
        observed_hour,
        poll_slot_at

),

slot_peaks as (

    select
        game_key,
        observed_hour as hour_at,
        max(viewer_count) as peak_viewers,
        max(channel_count) as peak_channels
    from slot_totals
    group by
        game_key,
        observed_hour

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

all_platforms_with_steam as (

    select
        coalesce(all_platforms_hourly.game_key, steam_players.game_key) as game_key,
        'all' as platform,
        coalesce(all_platforms_hourly.hour_at, steam_players.hour_at) as hour_at,
        coalesce(all_platforms_hourly.avg_viewers, 0) as avg_viewers,
        coalesce(all_platforms_hourly.peak_viewers, 0) as peak_viewers,
        coalesce(all_platforms_hourly.avg_channels, 0) as avg_channels,
        coalesce(all_platforms_hourly.peak_channels, 0) as peak_channels,
        coalesce(all_platforms_hourly.airtime_hours, 0) as airtime_hours,
        coalesce(all_platforms_hourly.hours_watched, 0) as hours_watched
    from all_platforms_hourly
    full outer join steam_players
        on
            all_platforms_hourly.game_key = steam_players.game_key
            and all_platforms_hourly.hour_at = steam_players.hour_at

),

unioned as (

    select * from platform_hourly
    union all
    select * from all_platforms_with_steam

),

final as (

    select
        cast(
            {{ surrogate_key(['unioned.game_key', 'unioned.platform', 'unioned.hour_at']) }}
            as {{ dbt.type_string() }}
        ) as game_hour_id,
        cast(unioned.game_key as {{ dbt.type_string() }}) as game_key,
        cast(unioned.platform as {{ dbt.type_string() }}) as platform,
        cast(unioned.hour_at as {{ dbt.type_timestamp() }}) as hour_at,
        cast(unioned.hour_at as date) as hour_date,
        cast(unioned.avg_viewers as double precision) as avg_viewers,
        cast(unioned.peak_viewers as {{ dbt.type_bigint() }}) as peak_viewers,
        cast(unioned.avg_channels as double precision) as avg_channels,
        cast(unioned.peak_channels as {{ dbt.type_bigint() }}) as peak_channels,
        cast(unioned.airtime_hours as double precision) as airtime_hours,
        cast(unioned.hours_watched as double precision) as hours_watched,
        cast(
            unioned.avg_viewers / nullif(unioned.avg_channels, 0) as double precision
        ) as viewer_ratio,
        cast(steam_players.avg_players as double precision) as steam_avg_players,
        cast(steam_players.peak_players as {{ dbt.type_bigint() }}) as steam_peak_players,
        cast(
            unioned.avg_viewers / nullif(steam_players.avg_players, 0)
            as double precision
        ) as viewer_to_player_ratio,
        cast(price_periods.discount_percent as {{ dbt.type_int() }}) as discount_percent
    from unioned
    left join steam_players
        on
            unioned.game_key = steam_players.game_key
            and unioned.hour_at = steam_players.hour_at
    left join price_periods
        on
            unioned.game_key = price_periods.game_key
            and price_periods.valid_from < {{ dbt.dateadd('hour', 1, 'unioned.hour_at') }}
            and (
                price_periods.valid_to is null
                or price_periods.valid_to >= {{ dbt.dateadd('hour', 1, 'unioned.hour_at') }}
            )

)

select * from final
