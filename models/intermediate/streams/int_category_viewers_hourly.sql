{#-
    Audience per platform, UTC hour and category. Averages divide by every
    poll the platform made in that hour, not only the polls where the
    category had live channels, so a category live for half the hour gets
    half the average. Peak values are per poll (sum over the category's
    channels at one poll). Uncategorised broadcasts form their own row with
    a null category_id.
-#}
{%- set poll_minutes = var('poll_interval_minutes') %}

with

observations as (

    select * from {{ ref('int_stream_observations_unioned') }}

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

    select
        platform,
        observed_hour,
        observed_at,
        category_id,
        max(category_name) as category_name,
        max(category_kind) as category_kind,
        max(game_key) as game_key,
        max(steam_appid) as steam_appid,
        sum(viewer_count) as viewer_count,
        count(*) as channel_count
    from observations
    group by
        platform,
        observed_hour,
        observed_at,
        category_id

),

hourly as (

    select
        platform,
        observed_hour,
        category_id,
        max(category_name) as category_name,
        max(category_kind) as category_kind,
        max(game_key) as game_key,
        max(steam_appid) as steam_appid,
        count(*) as live_poll_count,
        sum(viewer_count) as viewer_count_sum,
        max(viewer_count) as peak_viewers,
        sum(channel_count) as channel_count_sum,
        max(channel_count) as peak_channels
    from per_poll
    group by
        platform,
        observed_hour,
        category_id

),

final as (

    select
        hourly.platform,
        hourly.observed_hour as hour_at,
        hourly.category_id,
        hourly.category_name,
        hourly.category_kind,
        hourly.game_key,
        hourly.steam_appid,
        platform_polls.poll_count,
        hourly.live_poll_count,
        cast(
            1.0 * hourly.viewer_count_sum / platform_polls.poll_count
            as {{ dbt.type_float() }}
        ) as avg_viewers,
        hourly.peak_viewers,
        cast(
            1.0 * hourly.channel_count_sum / platform_polls.poll_count
            as {{ dbt.type_float() }}
        ) as avg_channels,
        hourly.peak_channels,
        cast(
            hourly.viewer_count_sum * {{ poll_minutes }} / 60.0 as {{ dbt.type_float() }}
        ) as hours_watched
    from hourly
    inner join platform_polls
        on
            hourly.platform = platform_polls.platform
            and hourly.observed_hour = platform_polls.observed_hour

)

select * from final
