{%- set window_predicates = [
    window_predicate('last_observed_at', 'last_observed_at', session_reach_minutes()),
    'is_ongoing',
] %}
{{
    config(
        materialized='incremental',
        unique_key='session_id',
        incremental_strategy='window_replace',
        incremental_predicates=window_predicates,
        on_schema_change='append_new_columns',
    )
}}
{#-
    One row per broadcast session (see int_stream_observations_sessionized
    for where sessions break). Each observation stands for
    var('poll_interval_minutes') of airtime; hours watched = average viewers
    x airtime hours.

    Incremental: each run rebuilds, from all their observations, the
    sessions that reach into the window (var('lookback_hours') plus one
    session gap and poll interval before the newest observation built) and
    the sessions that were ongoing; it replaces those rows and drops the
    ones that no longer exist (a session a late poll joined to an earlier
    one). Sessions that ended before the window are not read again.
-#}
{%- set poll_minutes = var('poll_interval_minutes') %}

with

{{ sessions_in_window_ctes('last_observed_at', 'is_ongoing') }}

session_games as (

    select
        session_id,
        game_key,
        min(observed_at) as first_observed_at,
        count(*) as game_observation_count
    from observations
    where game_key is not null
    group by
        session_id,
        game_key

),

game_lists as (

    select
        session_id,
        count(*) as games_played,
        {{ dbt.listagg('game_key', "','", 'order by first_observed_at, game_key') }}
            as game_keys
    from session_games
    group by session_id

),

main_games as (

    select
        session_id,
        game_key as main_game_key,
        row_number() over (
            partition by session_id
            order by game_observation_count desc, first_observed_at asc, game_key asc
        ) as row_num
    from session_games

),

last_names as (

    select
        session_id,
        channel_name,
        row_number() over (
            partition by session_id
            order by observed_at desc
        ) as row_num
    from observations

),

aggregated as (

    select
        session_id,
        platform,
        channel_id,
        min(stream_id) as stream_id,
        min(observed_at) as started_at,
        max(observed_at) as last_observed_at,
        count(*) as observation_count,
        max(viewer_count) as peak_viewers,
        avg(1.0 * viewer_count) as avg_viewers,
        count(distinct category_id) as categories_played
    from observations
    group by
        session_id,
        platform,
        channel_id

),

final as (

    select
        aggregated.session_id,
        aggregated.platform,
        aggregated.channel_id,
        last_names.channel_name,
        aggregated.stream_id,
        aggregated.started_at,
        {{ add_minutes('aggregated.last_observed_at', poll_minutes) }} as ended_at,
        aggregated.last_observed_at,
        aggregated.observation_count,
        aggregated.peak_viewers,
        cast(aggregated.avg_viewers as {{ dbt.type_float() }}) as avg_viewers,
        aggregated.observation_count * {{ poll_minutes }} as airtime_minutes,
        cast(
            {{ hours_watched('aggregated.avg_viewers * aggregated.observation_count') }}
            as {{ dbt.type_float() }}
        ) as hours_watched,
        coalesce(game_lists.games_played, 0) as games_played,
        aggregated.categories_played,
        game_lists.game_keys,
        main_games.main_game_key,
        aggregated.last_observed_at = latest_polls.latest_observed_at as is_ongoing
    from aggregated
    inner join latest_polls
        on aggregated.platform = latest_polls.platform
    left join last_names
        on
            aggregated.session_id = last_names.session_id
            and last_names.row_num = 1
    left join game_lists
        on aggregated.session_id = game_lists.session_id
    left join main_games
        on
            aggregated.session_id = main_games.session_id
            and main_games.row_num = 1

)

select * from final
