{#-
    Spells partition their session: same observation count, first spell
    starts when the session starts, no spell outlives the session.
-#}
with

spells as (

    select * from {{ ref('int_streamer_game_spells') }}

),

sessions as (

    select * from {{ ref('int_broadcast_sessions_sessionized') }}

),

spell_totals as (

    select
        session_id,
        sum(observation_count) as observation_count,
        min(valid_from) as first_valid_from,
        max(valid_to) as last_valid_to
    from spells
    group by session_id

),

final as (

    select
        sessions.session_id,
        sessions.observation_count,
        spell_totals.observation_count as spell_observation_count,
        sessions.started_at,
        spell_totals.first_valid_from,
        sessions.ended_at,
        spell_totals.last_valid_to
    from sessions
    left join spell_totals
        on sessions.session_id = spell_totals.session_id
    where
        spell_totals.session_id is null
        or sessions.observation_count <> spell_totals.observation_count
        or sessions.started_at <> spell_totals.first_valid_from
        or spell_totals.last_valid_to > sessions.ended_at

)

select * from final
