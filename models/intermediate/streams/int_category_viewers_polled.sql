{{
    config(
        materialized='incremental',
        incremental_strategy='window_replace',
        incremental_predicates=[window_predicate('hour_at', 'observed_at', trunc='hour')],
        on_schema_change='append_new_columns',
    )
}}
{#-
    Audience per platform, poll and category: the one place where the
    viewers of live channels are summed from observations. Each row also
    carries poll_count, the polls the platform made in that UTC hour (the
    divisor of every hourly average), and poll_slot_at, the start of the
    poll interval the poll falls in, which puts the platforms' polls of one
    polling round side by side. Uncategorised broadcasts form their own row
    with a null category_id.

    Incremental: each run replaces the whole UTC hours from
    var('lookback_hours') before the newest poll built (poll_count needs
    every poll of an hour).
-#}

with

observations as (

    select * from {{ ref('int_stream_observations_unioned') }}
    {%- if is_incremental() %}
        where observed_hour >= {{ window_start('observed_at', trunc='hour') }}
    {%- endif %}

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

final as (

    select
        per_poll.platform,
        per_poll.observed_hour as hour_at,
        per_poll.observed_at,
        {{ poll_slot('per_poll.observed_at', 'per_poll.observed_hour') }} as poll_slot_at,
        per_poll.category_id,
        per_poll.category_name,
        per_poll.category_kind,
        per_poll.game_key,
        per_poll.steam_appid,
        per_poll.viewer_count,
        per_poll.channel_count,
        platform_polls.poll_count
    from per_poll
    inner join platform_polls
        on
            per_poll.platform = platform_polls.platform
            and per_poll.observed_hour = platform_polls.observed_hour

)

select * from final
