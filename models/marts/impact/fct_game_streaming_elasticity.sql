{#-
    Elasticity of a game's concurrent Steam players with respect to its
    stream viewers, per canonical game and pooled (game_key = 'all'): the
    mean over the game's polls with live viewers of the fitted streamer
    effect / players, where the effect is sum over streamers of unshrunk
    influence x exposure viewers / 1,000. The interval treats the
    streamers' estimates as independent. Method: docs block
    `streamer_impact_method`.
-#}
{%- set z90 = 1.6448536 %}

with

design as (

    select * from {{ ref('int_impact_design') }}

),

influence as (

    select * from {{ ref('int_streamer_influence') }}

),

game_polls as (

    select * from {{ ref('int_impact_game_polls') }}

),

live_slots as (

    {#- Polls of the panel at which the game had live viewers on any platform. #}
    select
        steam_appid,
        game_key,
        slot_at,
        players
    from game_polls
    where
        live_viewers > 0
        and game_key is not null

),

live_counts as (

    select
        steam_appid,
        game_key,
        count(*) as observations
    from live_slots
    group by
        steam_appid,
        game_key

),

weights as (

    {#- Per streamer and game: sum over live polls of exposure / (1,000 x players). #}
    select
        design.platform,
        design.channel_id,
        design.steam_appid,
        sum(design.exposure_viewers / (1000.0 * live_slots.players)) as weight
    from design
    inner join live_slots
        on
            design.steam_appid = live_slots.steam_appid
            and design.slot_at = live_slots.slot_at
    where design.exposure_viewers > 0
    group by
        design.platform,
        design.channel_id,
        design.steam_appid

),

contributions as (

    select
        weights.steam_appid,
        weights.weight * influence.unshrunk_influence as effect_share,
        weights.weight * weights.weight
        * influence.unshrunk_influence_se * influence.unshrunk_influence_se
            as effect_share_variance
    from weights
    inner join influence
        on
            weights.platform = influence.platform
            and weights.channel_id = influence.channel_id
    where influence.unshrunk_influence_se is not null

),

per_app as (

    select
        live_counts.steam_appid,
        live_counts.game_key,
        live_counts.observations,
        coalesce(sum(contributions.effect_share), 0) as effect_share,
        coalesce(sum(contributions.effect_share_variance), 0) as effect_share_variance
    from live_counts
    left join contributions
        on live_counts.steam_appid = contributions.steam_appid
    group by
        live_counts.steam_appid,
        live_counts.game_key,
        live_counts.observations

),

per_game as (

    select
        game_key,
        sum(observations) as observations,
        sum(effect_share) as effect_share,
        sum(effect_share_variance) as effect_share_variance
    from per_app
    group by game_key

),

pooled as (

    select
        'all' as game_key,
        sum(observations) as observations,
        sum(effect_share) as effect_share,
        sum(effect_share_variance) as effect_share_variance
    from per_game

),

both_levels as (

    select * from per_game
    union all
    select * from pooled

),

final as (

    select
        cast(game_key as {{ dbt.type_string() }}) as game_key,
        cast(effect_share / observations as double precision) as elasticity,
        cast(
            (effect_share - {{ z90 }} * sqrt(effect_share_variance)) / observations
            as double precision
        ) as elasticity_ci_low,
        cast(
            (effect_share + {{ z90 }} * sqrt(effect_share_variance)) / observations
            as double precision
        ) as elasticity_ci_high,
        cast(observations as {{ dbt.type_bigint() }}) as observations
    from both_levels
    where observations > 0

)

select * from final
