{%- set polled_hours = 'poll_count * ' ~ var('poll_interval_minutes') ~ ' / 60.0' %}
{{
    config(
        materialized='incremental',
        incremental_strategy='window_replace',
        incremental_predicates=[day_window_predicate('activity_date', polled_hours)],
        on_schema_change='append_new_columns',
    )
}}
{{ config(dist='platform', sort=['activity_date']) if target.type == 'redshift' }}
{#-
    Each streaming platform's whole audience per UTC day, every category
    included (games, non-game and uncategorized streams): live channels,
    average and peak concurrent viewers and channels over the day's polls,
    airtime and hours watched. The Home page's "today vs the day before".
    Incremental: each run replaces the newest day built, and the day before
    when the newest day has at most var('lookback_hours') hours of polls
    (poll_count x var('poll_interval_minutes')).
-#}
with

category_viewers_polled as (

    select * from {{ ref('int_category_viewers_polled') }}
    {%- if is_incremental() %}
        where hour_at >= {{ day_window_start('activity_date', hours_column=polled_hours) }}
    {%- endif %}

),

observations as (

    select * from {{ ref('int_stream_observations_unioned') }}
    {%- if is_incremental() %}
        where observed_hour >= {{ day_window_start('activity_date', hours_column=polled_hours) }}
    {%- endif %}

),

per_poll as (

    select
        platform,
        cast(hour_at as date) as activity_date,
        observed_at,
        sum(viewer_count) as viewer_count,
        sum(channel_count) as channel_count
    from category_viewers_polled
    group by
        platform,
        cast(hour_at as date),
        observed_at

),

per_day_polls as (

    select
        platform,
        activity_date,
        count(*) as poll_count,
        1.0 * sum(viewer_count) / count(*) as avg_viewers,
        max(viewer_count) as peak_viewers,
        1.0 * sum(channel_count) / count(*) as avg_channels,
        max(channel_count) as peak_channels,
        {{ airtime_hours('sum(channel_count)') }} as airtime_hours,
        {{ hours_watched('sum(viewer_count)') }} as hours_watched
    from per_poll
    group by
        platform,
        activity_date

),

per_day_channels as (

    select
        platform,
        cast(observed_hour as date) as activity_date,
        count(distinct channel_id) as live_channels
    from observations
    group by
        platform,
        cast(observed_hour as date)

),

final as (

    select
        {{ surrogate_key(['per_day_polls.platform', 'per_day_polls.activity_date']) }}
            as platform_day_id,
        per_day_polls.platform,
        per_day_polls.activity_date,
        cast(per_day_polls.poll_count as integer) as poll_count,
        cast(per_day_channels.live_channels as bigint) as live_channels,
        cast(per_day_polls.avg_channels as double precision) as avg_channels,
        cast(per_day_polls.peak_channels as bigint) as peak_channels,
        cast(per_day_polls.avg_viewers as double precision) as avg_viewers,
        cast(per_day_polls.peak_viewers as bigint) as peak_viewers,
        cast(per_day_polls.airtime_hours as double precision) as airtime_hours,
        cast(per_day_polls.hours_watched as double precision) as hours_watched
    from per_day_polls
    inner join per_day_channels
        on
            per_day_polls.platform = per_day_channels.platform
            and per_day_polls.activity_date = per_day_channels.activity_date

)

select * from final
