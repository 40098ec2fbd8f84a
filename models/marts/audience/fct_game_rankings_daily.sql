{{
    config(
        materialized='incremental',
        incremental_strategy='window_replace',
        incremental_predicates=[day_window_predicate('game_date')],
        on_schema_change='append_new_columns',
    )
}}
{#-
    Daily game ranking per platform ('all' = overall), by hours watched,
    over games (category_kind = 'game') with hours watched > 0. Ties are
    broken by peak viewers, then game_key, so ranks are consecutive and
    deterministic. See docs `game_rankings` for rank change, new entries,
    days at #1, top-10 retention and the stream-share score.

    Incremental: each run replaces the newest day built and the day before,
    reading one more day of fct_game_daily for the previous ranks; a streak
    at #1 goes on from the days_at_number_one already built.
-#}
{%- set day_before_window = 'cast(' ~ dbt.dateadd('day', -1, day_window_start('game_date'))
    ~ ' as date)' %}
with

daily as (

    select * from {{ ref('fct_game_daily') }}
    {%- if is_incremental() %}
        where game_date >= {{ day_before_window }}
    {%- endif %}

),

games as (

    select * from {{ ref('games') }}

),

ranked_games as (

    select
        daily.game_date,
        daily.platform,
        daily.game_key,
        daily.hours_watched,
        daily.peak_viewers,
        daily.peak_channels
    from daily
    inner join games
        on daily.game_key = games.game_key
    where
        games.category_kind = 'game'
        and daily.hours_watched > 0

),

platform_day_totals as (

    select
        game_date,
        platform,
        sum(hours_watched) as hours_watched,
        sum(peak_viewers) as peak_viewers,
        sum(peak_channels) as peak_channels
    from ranked_games
    group by
        game_date,
        platform

),

scored as (

    select
        ranked_games.*,
        row_number() over (
            partition by ranked_games.game_date, ranked_games.platform
            order by
                ranked_games.hours_watched desc,
                ranked_games.peak_viewers desc,
                ranked_games.game_key asc
        ) as hours_watched_rank,
        0.2 * ranked_games.peak_viewers / nullif(platform_day_totals.peak_viewers, 0)
        + 0.2 * ranked_games.peak_channels / nullif(platform_day_totals.peak_channels, 0)
        + 0.6 * ranked_games.hours_watched / nullif(platform_day_totals.hours_watched, 0)
            as stream_share_score
    from ranked_games
    inner join platform_day_totals
        on
            ranked_games.game_date = platform_day_totals.game_date
            and ranked_games.platform = platform_day_totals.platform

),

ranking_days as (

    select distinct
        game_date,
        platform
    from scored

),

with_previous as (

    select
        scored.*,
        previous_day.hours_watched_rank as previous_rank,
        previous_days.game_date is not null as has_previous_day
    from scored
    left join scored as previous_day
        on
            scored.platform = previous_day.platform
            and scored.game_key = previous_day.game_key
            and cast({{ dbt.dateadd('day', -1, 'scored.game_date') }} as date)
            = previous_day.game_date
    left join ranking_days as previous_days
        on
            scored.platform = previous_days.platform
            and cast({{ dbt.dateadd('day', -1, 'scored.game_date') }} as date)
            = previous_days.game_date

),

number_one_streaks as (

    {#- Gaps and islands: consecutive days at #1 share day_number - row_number. #}
    select
        game_date,
        platform,
        game_key,
        {{ dbt.datediff("cast('2000-01-01' as date)", 'game_date', 'day') }}
        - row_number() over (
            partition by platform, game_key
            order by game_date
        ) as streak_key
    from scored
    where hours_watched_rank = 1

),

number_one_islands as (

    select
        game_date,
        platform,
        game_key,
        row_number() over (
            partition by platform, game_key, streak_key
            order by game_date
        ) as days_in_island,
        min(game_date) over (
            partition by platform, game_key, streak_key
        ) as island_first_date
    from number_one_streaks

),

{# Streaks at #1 on the day before the rewritten days, as built (incremental runs). #}
carried_streaks as (

    {%- if is_incremental() %}
        select
            game_date,
            platform,
            game_key,
            days_at_number_one
        from {{ this }}
        where
            game_date = {{ day_before_window }}
            and hours_watched_rank = 1
    {%- else %}
        select
            game_date,
            platform,
            game_key,
            0 as days_at_number_one
        from number_one_islands
        where 1 = 0
    {%- endif %}

),

number_one_days as (

    select
        number_one_islands.game_date,
        number_one_islands.platform,
        number_one_islands.game_key,
        number_one_islands.days_in_island
        + coalesce(carried_streaks.days_at_number_one - 1, 0) as days_at_number_one
    from number_one_islands
    left join carried_streaks
        on
            number_one_islands.island_first_date = carried_streaks.game_date
            and number_one_islands.platform = carried_streaks.platform
            and number_one_islands.game_key = carried_streaks.game_key

),

top10_retention as (

    select
        today.game_date,
        today.platform,
        sum(case when today.hours_watched_rank <= 10 then 1 else 0 end) as retained_count
    from scored as yesterday_top10
    inner join scored as today
        on
            yesterday_top10.platform = today.platform
            and yesterday_top10.game_key = today.game_key
            and cast({{ dbt.dateadd('day', 1, 'yesterday_top10.game_date') }} as date)
            = today.game_date
    where yesterday_top10.hours_watched_rank <= 10
    group by
        today.game_date,
        today.platform

),

yesterday_top10_sizes as (

    select
        cast({{ dbt.dateadd('day', 1, 'game_date') }} as date) as game_date,
        platform,
        count(*) as top10_size
    from scored
    where hours_watched_rank <= 10
    group by
        cast({{ dbt.dateadd('day', 1, 'game_date') }} as date),
        platform

),

final as (

    select
        cast(
            {{ surrogate_key(['with_previous.game_date', 'with_previous.platform',
                'with_previous.game_key']) }}
            as {{ dbt.type_string() }}
        ) as game_ranking_id,
        cast(with_previous.game_date as date) as game_date,
        cast(with_previous.platform as {{ dbt.type_string() }}) as platform,
        cast(with_previous.game_key as {{ dbt.type_string() }}) as game_key,
        cast(with_previous.hours_watched as double precision) as hours_watched,
        cast(with_previous.hours_watched_rank as {{ dbt.type_int() }}) as hours_watched_rank,
        cast(with_previous.previous_rank as {{ dbt.type_int() }}) as previous_rank,
        cast(
            with_previous.previous_rank - with_previous.hours_watched_rank
            as {{ dbt.type_int() }}
        ) as rank_change,
        cast(
            with_previous.has_previous_day and with_previous.previous_rank is null
            as {{ dbt.type_boolean() }}
        ) as is_new_entry,
        cast(coalesce(number_one_days.days_at_number_one, 0) as {{ dbt.type_int() }})
            as days_at_number_one,
        cast(
            case
                when yesterday_top10_sizes.top10_size is not null
                    then
                        1.0 * coalesce(top10_retention.retained_count, 0)
                        / yesterday_top10_sizes.top10_size
            end as double precision
        ) as top10_retention_share,
        cast(with_previous.peak_viewers as {{ dbt.type_bigint() }}) as peak_viewers,
        cast(with_previous.peak_channels as {{ dbt.type_bigint() }}) as peak_channels,
        cast(with_previous.stream_share_score as double precision)
            as stream_share_score,
        cast(
            row_number() over (
                partition by with_previous.game_date, with_previous.platform
                order by with_previous.stream_share_score desc, with_previous.game_key asc
            ) as {{ dbt.type_int() }}
        ) as stream_share_rank
    from with_previous
    left join number_one_days
        on
            with_previous.game_date = number_one_days.game_date
            and with_previous.platform = number_one_days.platform
            and with_previous.game_key = number_one_days.game_key
    left join top10_retention
        on
            with_previous.game_date = top10_retention.game_date
            and with_previous.platform = top10_retention.platform
    left join yesterday_top10_sizes
        on
            with_previous.game_date = yesterday_top10_sizes.game_date
            and with_previous.platform = yesterday_top10_sizes.platform
    {%- if is_incremental() %}
        where with_previous.game_date >= {{ day_window_start('game_date') }}
    {%- endif %}

)

select * from final
