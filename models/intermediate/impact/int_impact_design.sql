{#-
    The design of the streamer-influence fit: one row per (streamer, Steam
    app) pair with any exposure and per poll slot of that app's panel.
    Exposure = the streamer's viewers on the app averaged over the polls
    var('impact_exposure_from_minutes') to var('impact_exposure_to_minutes')
    before the slot (the effect appears within the hour and fades within a
    few hours; 0 when the streamer was elsewhere). The regressor
    exposure_share = exposure viewers / (1,000 x baseline players) (an
    additive effect per 1,000 viewers on the multiplicative baseline) and its
    fixed-effects residual, swept by the same cells and slots as the players
    (Frisch-Waugh). Method: docs block `streamer_impact_method`.
-#}
{%- set poll_minutes = var('poll_interval_minutes') | int(10) %}
{%- set from_minutes = var('impact_exposure_from_minutes') | int(30) %}
{%- set to_minutes = var('impact_exposure_to_minutes') | int(120) %}
{%- set lags = range(from_minutes, to_minutes + 1, poll_minutes) | list %}
{%- set passes = var('impact_sweep_passes') | int(2) %}
{%- set pair = ['platform', 'channel_id', 'steam_appid'] %}
{%- set cell = pair + ['kst_day', 'discount_percent', 'update_id', 'update_bin'] %}
{%- set slot = pair + ['slot_of_day'] %}

with

game_polls as (

    select * from {{ ref('int_impact_game_polls') }}

),

observations as (

    select * from {{ ref('int_stream_observations_unioned') }}
    where
        steam_appid is not null
        and category_kind = 'game'

),

slotted as (

    select
        platform,
        channel_id,
        steam_appid,
        {{ poll_slot('observed_at', 'observed_hour') }} as watched_slot_at,
        max(viewer_count) as viewers
    from observations
    group by
        platform,
        channel_id,
        steam_appid,
        watched_slot_at

),

lags as (

    {%- for lag in lags %}
        select {{ lag }} as lag_minutes
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}

),

spread as (

    select
        slotted.platform,
        slotted.channel_id,
        slotted.steam_appid,
        {{ dbt.dateadd('minute', 'lags.lag_minutes', 'slotted.watched_slot_at') }} as slot_at,
        sum(slotted.viewers) / {{ lags | length }}.0 as exposure_viewers
    from slotted
    cross join lags
    group by
        slotted.platform,
        slotted.channel_id,
        slotted.steam_appid,
        {{ dbt.dateadd('minute', 'lags.lag_minutes', 'slotted.watched_slot_at') }}

),

exposures as (

    {#- Only slots of the panel, only with exposure. #}
    select
        spread.platform,
        spread.channel_id,
        spread.steam_appid,
        spread.slot_at,
        spread.exposure_viewers
    from spread
    inner join game_polls
        on
            spread.steam_appid = game_polls.steam_appid
            and spread.slot_at = game_polls.slot_at
    where spread.exposure_viewers > 0

),

pairs as (

    select distinct
        platform,
        channel_id,
        steam_appid
    from exposures

),

dense as (

    select
        pairs.platform,
        pairs.channel_id,
        pairs.steam_appid,
        game_polls.slot_at,
        game_polls.kst_day,
        game_polls.slot_of_day,
        game_polls.discount_percent,
        game_polls.update_id,
        game_polls.update_bin,
        game_polls.players,
        game_polls.players_resid,
        coalesce(exposures.exposure_viewers, 0) as exposure_viewers,
        coalesce(exposures.exposure_viewers, 0) / (1000.0 * game_polls.baseline_players)
            as exposure_share
    from pairs
    inner join game_polls
        on pairs.steam_appid = game_polls.steam_appid
    left join exposures
        on
            pairs.platform = exposures.platform
            and pairs.channel_id = exposures.channel_id
            and pairs.steam_appid = exposures.steam_appid
            and game_polls.slot_at = exposures.slot_at

),

{{ fe_sweep(
    'exposure', 'dense', 'exposure_share',
    pair + ['slot_at', 'kst_day', 'slot_of_day', 'discount_percent', 'update_id', 'update_bin',
            'players', 'players_resid', 'exposure_viewers', 'exposure_share'],
    cell, slot, passes
) }}

final as (

    select
        cast(platform as {{ dbt.type_string() }}) as platform,
        cast(channel_id as {{ dbt.type_string() }}) as channel_id,
        steam_appid,
        slot_at,
        kst_day,
        players,
        cast(exposure_viewers as double precision) as exposure_viewers,
        cast(exposure_share as double precision) as exposure_share,
        cast(exposure_resid as double precision) as exposure_resid,
        players_resid
    from exposure_{{ 2 * passes + 1 }}

)

select * from final
