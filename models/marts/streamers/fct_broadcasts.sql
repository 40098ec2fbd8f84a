{{ config(dist='streamer_id', sort=['started_at']) if target.type == 'redshift' }}
{#-
    One row per broadcast session (see docs `sessions_and_spells`), keyed to
    the streamer and the game it spent most observations on.
-#}
with

sessions as (

    select * from {{ ref('int_broadcast_sessions_sessionized') }}

),

final as (

    select
        cast(session_id as {{ dbt.type_string() }}) as broadcast_id,
        cast(
            {{ surrogate_key(['platform', 'channel_id']) }} as {{ dbt.type_string() }}
        ) as streamer_id,
        cast(platform as {{ dbt.type_string() }}) as platform,
        cast(channel_id as {{ dbt.type_string() }}) as channel_id,
        cast(channel_name as {{ dbt.type_string() }}) as channel_name,
        cast(stream_id as {{ dbt.type_string() }}) as stream_id,
        cast(started_at as {{ dbt.type_timestamp() }}) as started_at,
        cast(ended_at as {{ dbt.type_timestamp() }}) as ended_at,
        cast(last_observed_at as {{ dbt.type_timestamp() }}) as last_observed_at,
        cast(started_at as date) as started_date,
        cast(observation_count as {{ dbt.type_bigint() }}) as observation_count,
        cast(airtime_minutes / 60.0 as double precision) as airtime_hours,
        cast(avg_viewers as double precision) as avg_viewers,
        cast(peak_viewers as {{ dbt.type_bigint() }}) as peak_viewers,
        cast(hours_watched as double precision) as hours_watched,
        cast(games_played as {{ dbt.type_bigint() }}) as games_played,
        cast(categories_played as {{ dbt.type_bigint() }}) as categories_played,
        cast(game_keys as {{ dbt.type_string() }}) as game_keys,
        cast(main_game_key as {{ dbt.type_string() }}) as main_game_key,
        cast(is_ongoing as {{ dbt.type_boolean() }}) as is_ongoing
    from sessions

)

select * from final
