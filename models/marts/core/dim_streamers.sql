{#-
    One row per channel ever seen live: latest name and followers, first and
    last seen, airtime and audience over all sessions, and its main games
    (the three mapped games with the most airtime, from the game spells).
-#}

with

channels as (

    select * from {{ ref('int_channels_current') }}

),

sessions as (

    select * from {{ ref('int_broadcast_sessions_sessionized') }}

),

spells as (

    select * from {{ ref('int_streamer_game_spells') }}

),

influence as (

    select * from {{ ref('int_streamer_influence') }}

),

impact_events as (

    select * from {{ ref('fct_streamer_game_impact') }}

),

measured_events as (

    {#- Start events with an event-window lift (the Streamer page's evidence table). #}
    select
        platform,
        channel_id,
        count(*) as measured_events
    from impact_events
    group by
        platform,
        channel_id

),

session_totals as (

    select
        platform,
        channel_id,
        count(*) as session_count,
        sum(airtime_minutes) as airtime_minutes,
        sum(hours_watched) as hours_watched,
        max(peak_viewers) as peak_viewers
    from sessions
    group by
        platform,
        channel_id

),

game_airtime as (

    select
        platform,
        channel_id,
        game_key,
        sum(observation_count) as observation_count,
        min(valid_from) as first_played_at
    from spells
    where game_key is not null
    group by
        platform,
        channel_id,
        game_key

),

ranked_games as (

    select
        *,
        row_number() over (
            partition by platform, channel_id
            order by observation_count desc, first_played_at asc, game_key asc
        ) as game_rank
    from game_airtime

),

main_games as (

    select
        platform,
        channel_id,
        max(case when game_rank = 1 then game_key end) as main_game_key,
        {{ dbt.listagg('game_key', "','", 'order by game_rank') }} as main_game_keys
    from ranked_games
    where game_rank <= 3
    group by
        platform,
        channel_id

),

final as (

    select
        cast(
            {{ surrogate_key(['channels.platform', 'channels.channel_id']) }}
            as {{ dbt.type_string() }}
        ) as streamer_id,
        cast(channels.platform as {{ dbt.type_string() }}) as platform,
        cast(channels.channel_id as {{ dbt.type_string() }}) as channel_id,
        cast(channels.channel_name as {{ dbt.type_string() }}) as channel_name,
        cast(channels.follower_count as {{ dbt.type_bigint() }}) as follower_count,
        cast(channels.first_seen_at as {{ dbt.type_timestamp() }}) as first_seen_at,
        cast(channels.last_seen_at as {{ dbt.type_timestamp() }}) as last_seen_at,
        cast(channels.is_live as {{ dbt.type_boolean() }}) as is_live,
        cast(channels.game_key as {{ dbt.type_string() }}) as last_game_key,
        cast(channels.observation_count as {{ dbt.type_bigint() }}) as observation_count,
        cast(coalesce(session_totals.session_count, 0) as {{ dbt.type_bigint() }})
            as session_count,
        cast(
            coalesce(session_totals.airtime_minutes, 0) / 60.0 as double precision
        ) as airtime_hours,
        cast(coalesce(session_totals.hours_watched, 0) as double precision)
            as hours_watched,
        cast(session_totals.peak_viewers as {{ dbt.type_bigint() }}) as peak_viewers,
        cast(main_games.main_game_key as {{ dbt.type_string() }}) as main_game_key,
        cast(main_games.main_game_keys as {{ dbt.type_string() }}) as main_game_keys,
        cast(influence.estimated_influence as double precision) as estimated_influence,
        cast(influence.influence_ci_low as double precision) as influence_ci_low,
        cast(influence.influence_ci_high as double precision) as influence_ci_high,
        cast(coalesce(influence.influence_events, 0) as {{ dbt.type_bigint() }})
            as influence_events,
        cast(coalesce(influence.influence_evidence, 'insufficient') as {{ dbt.type_string() }})
            as influence_evidence,
        cast(coalesce(measured_events.measured_events, 0) as {{ dbt.type_bigint() }})
            as measured_events
    from channels
    left join session_totals
        on
            channels.platform = session_totals.platform
            and channels.channel_id = session_totals.channel_id
    left join main_games
        on
            channels.platform = main_games.platform
            and channels.channel_id = main_games.channel_id
    left join influence
        on
            channels.platform = influence.platform
            and channels.channel_id = influence.channel_id
    left join measured_events
        on
            channels.platform = measured_events.platform
            and channels.channel_id = measured_events.channel_id

)

select * from final
