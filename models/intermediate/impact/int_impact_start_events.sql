{#-
    One row per start event: a streamer starts streaming a game with a
    Steam app (a spell of int_streamer_game_spells on a category of kind
    `game` with a Steam app: the first spell of a session or a mid-session
    switch). The events the evidence of streamer influence is counted in
    (int_streamer_influence.influence_events) and that
    fct_streamer_game_impact measures one by one.
-#}
with

spells as (

    select * from {{ ref('int_streamer_game_spells') }}

),

final as (

    select
        spell_id as event_id,
        platform,
        channel_id,
        game_key,
        steam_appid,
        valid_from as started_at,
        avg_viewers as streamer_avg_viewers
    from spells
    where
        steam_appid is not null
        and category_kind = 'game'

)

select * from final
