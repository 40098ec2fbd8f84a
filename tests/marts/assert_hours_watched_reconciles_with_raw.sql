{#-
    Hours watched in gold add up to the raw observations. Per platform:

        sum of raw viewer counts x poll interval / 60
        = gold hours watched of the mapped games (fct_game_hourly)
        + hours watched of unmapped or uncategorised broadcasts (silver)

    and the `all` rows equal the sum of the three platforms. Raw rows are
    read straight from the loaders' tables (one row per channel and poll
    by the raw contract; grouping guards against a re-loaded poll). Fails
    with one row per platform whose totals differ by more than 0.01 % (or
    0.01 hours).
-#}
{%- set poll_minutes = var('poll_interval_minutes') %}

with

raw_observations as (

    select
        'chzzk' as platform,
        channel_id,
        observed_at,
        max(concurrent_user_count) as viewer_count
    from {{ source('chzzk', 'lives') }}
    group by channel_id, observed_at

    union all

    select
        'soop' as platform,
        user_id as channel_id,
        observed_at,
        max(total_view_cnt) as viewer_count
    from {{ source('soop', 'broads') }}
    group by user_id, observed_at

    union all

    select
        'twitch' as platform,
        user_id as channel_id,
        observed_at,
        max(viewer_count) as viewer_count
    from {{ source('twitch', 'streams') }}
    group by user_id, observed_at

),

raw_totals as (

    select
        platform,
        sum(viewer_count) * {{ poll_minutes }} / 60.0 as hours_watched
    from raw_observations
    group by platform

),

gold_games as (

    select
        platform,
        sum(hours_watched) as hours_watched
    from {{ ref('fct_game_hourly') }}
    where platform <> 'all'
    group by platform

),

gold_all as (

    select sum(hours_watched) as hours_watched
    from {{ ref('fct_game_hourly') }}
    where platform = 'all'

),

silver_unmapped as (

    select
        platform,
        sum(hours_watched) as hours_watched
    from {{ ref('int_category_viewers_hourly') }}
    where game_key is null
    group by platform

),

compared as (

    select
        raw_totals.platform,
        raw_totals.hours_watched as expected_hours_watched,
        coalesce(gold_games.hours_watched, 0)
        + coalesce(silver_unmapped.hours_watched, 0) as actual_hours_watched
    from raw_totals
    left join gold_games
        on raw_totals.platform = gold_games.platform
    left join silver_unmapped
        on raw_totals.platform = silver_unmapped.platform

    union all

    select
        'all' as platform,
        (
            select coalesce(sum(gold_games.hours_watched), 0)
            from gold_games
        ) as expected_hours_watched,
        coalesce(gold_all.hours_watched, 0) as actual_hours_watched
    from gold_all

)

select *
from compared
where
    abs(expected_hours_watched - actual_hours_watched)
    > 0.01 + 0.0001 * abs(expected_hours_watched)
