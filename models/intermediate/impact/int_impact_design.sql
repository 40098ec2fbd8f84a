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
    (Frisch-Waugh). Fitted once per fit_id of int_impact_fit_window and
    kept until it changes (macros/impact_fit.sql). Method: docs block
    `streamer_impact_method`.
-#}
{{ config(
    materialized='incremental',
    incremental_strategy='fit_replace',
    on_schema_change='append_new_columns',
) }}
{%- set poll_minutes = var('poll_interval_minutes') | int(10) %}
{%- set from_minutes = var('impact_exposure_from_minutes') | int(30) %}
{%- set to_minutes = var('impact_exposure_to_minutes') | int(120) %}
{%- set lags = range(from_minutes, to_minutes + 1, poll_minutes) | list %}
{%- set reach_minutes = to_minutes + poll_minutes %}
{%- set passes = var('impact_sweep_passes') | int(2) %}
{%- set pair = ['platform', 'channel_id', 'steam_appid'] %}
{%- set cell = pair + ['kst_day', 'discount_percent', 'update_id', 'update_bin'] %}
{%- set slot = pair + ['slot_of_day'] %}

with

fit_window as (

    select * from {{ ref('int_impact_fit_window') }}

),

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
        observations.platform,
        observations.channel_id,
        observations.steam_appid,
        {{ poll_slot('observations.observed_at', 'observations.observed_hour') }}
            as watched_slot_at,
        max(observations.viewer_count) as viewers
    from observations
    inner join fit_window
        on
            {#- the polls the exposure of the window's slots averages #}
            observations.observed_at
            >= {{ dbt.dateadd('minute', -reach_minutes, 'fit_window.window_start_at') }}
            and observations.observed_at < fit_window.window_end_at
    group by
        observations.platform,
        observations.channel_id,
        observations.steam_appid,
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
        cast(exposure_swept.platform as {{ dbt.type_string() }}) as platform,
        cast(exposure_swept.channel_id as {{ dbt.type_string() }}) as channel_id,
        exposure_swept.steam_appid,
        exposure_swept.slot_at,
        exposure_swept.kst_day,
        exposure_swept.players,
        cast(exposure_swept.exposure_viewers as double precision) as exposure_viewers,
        cast(exposure_swept.exposure_share as double precision) as exposure_share,
        cast(exposure_swept.exposure_resid as double precision) as exposure_resid,
        exposure_swept.players_resid,
        fit_window.fit_id
    from exposure_{{ 2 * passes + 1 }} as exposure_swept
    cross join fit_window

)

select * from final
{%- if is_incremental() and fit_kept() %}
    where 1 = 0  {#- the fit of this fit_id is in the table: keep it, select nothing #}
{%- endif %}
