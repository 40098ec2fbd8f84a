{%- set window_predicates = [
    window_predicate('last_observed_at', 'last_observed_at', session_reach_minutes()),
    'is_ongoing',
] %}
{{
    config(
        materialized='incremental',
        unique_key='broadcast_id',
        incremental_strategy='window_replace',
        incremental_predicates=window_predicates,
        on_schema_change='append_new_columns',
    )
}}
{{ config(dist='streamer_id', sort=['started_at']) if target.type == 'redshift' }}
{#-
    One row per broadcast session (see docs `sessions_and_spells`), keyed to
    the streamer and the game it spent most observations on.

    Incremental: each run replaces the sessions that reach into the window
    of int_broadcast_sessions_sessionized and those that were ongoing.
-#}
with

sessions as (

    select * from {{ ref('int_broadcast_sessions_sessionized') }}
    {%- if is_incremental() %}
        where
            last_observed_at >= {{ window_start('last_observed_at', session_reach_minutes()) }}
            or session_id in (
                select built.broadcast_id from {{ this }} as built
                where built.is_ongoing
            )
    {%- endif %}

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
