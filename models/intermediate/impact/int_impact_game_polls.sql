{#-
    The panel of the streamer-influence estimator: one row per Steam app and
    poll slot of the fit window (int_impact_fit_window: the last
    var('impact_window_days') whole KST days of player counts), with the fixed-effect cells of the game x day x discount
    x update model, the game x time-of-day slot, and the fixed-effects
    residual of log players. baseline_players = exp(log players - residual):
    the fitted multiplicative baseline the streamer effect adds to.
    Method: docs block `streamer_impact_method`.
-#}
{%- set poll_minutes = var('poll_interval_minutes') %}
{%- set passes = var('impact_sweep_passes') | int(2) %}
{%- set cell = ['steam_appid', 'kst_day', 'discount_percent', 'update_id', 'update_bin'] %}
{%- set slot = ['steam_appid', 'slot_of_day'] %}

with

players as (

    select * from {{ ref('stg_steam__current_players') }}
    where
        is_success
        and player_count > 0

),

price_periods as (

    select * from {{ ref('int_steam_price_periods') }}

),

updates as (

    select * from {{ ref('int_steam_update_events') }}

),

category_viewers as (

    select * from {{ ref('int_category_viewers_polled') }}

),

games as (

    select * from {{ ref('games') }}

),

fit_window as (

    select * from {{ ref('int_impact_fit_window') }}

),

slotted as (

    select
        players.steam_appid,
        {{ poll_slot('players.observed_at') }} as slot_at,
        players.player_count
    from players
    inner join fit_window
        on
            players.observed_at >= fit_window.window_start_at
            and players.observed_at < fit_window.window_end_at

),

per_slot as (

    select
        steam_appid,
        slot_at,
        avg(cast(player_count as double precision)) as players
    from slotted
    group by
        steam_appid,
        slot_at

),

live_viewers as (

    {#- Viewers on the app at the slot, all platforms (the elasticity's live polls). #}
    select
        steam_appid,
        poll_slot_at as slot_at,
        sum(viewer_count) as live_viewers
    from category_viewers
    where steam_appid is not null
    group by
        steam_appid,
        poll_slot_at

),

with_discount as (

    select
        per_slot.steam_appid,
        per_slot.slot_at,
        per_slot.players,
        coalesce(max(price_periods.discount_percent), 0) as discount_percent
    from per_slot
    left join price_periods
        on
            per_slot.steam_appid = price_periods.steam_appid
            and per_slot.slot_at >= price_periods.valid_from
            and (price_periods.valid_to is null or per_slot.slot_at < price_periods.valid_to)
    group by
        per_slot.steam_appid,
        per_slot.slot_at,
        per_slot.players

),

update_candidates as (

    {#- The latest update at or before the slot, within the ramp horizon. #}
    select
        with_discount.steam_appid,
        with_discount.slot_at,
        updates.update_id,
        {{ dbt.datediff('updates.updated_at', 'with_discount.slot_at', 'minute') }}
            as minutes_since_update,
        row_number() over (
            partition by with_discount.steam_appid, with_discount.slot_at
            order by updates.updated_at desc
        ) as recency
    from with_discount
    inner join updates
        on
            with_discount.steam_appid = updates.steam_appid
            and with_discount.slot_at >= updates.updated_at
            and with_discount.slot_at
            < {{ dbt.dateadd('hour', 64, 'updates.updated_at') }}

),

keyed as (

    select
        with_discount.steam_appid,
        with_discount.slot_at,
        with_discount.players,
        with_discount.discount_percent,
        coalesce(update_candidates.update_id, 'none') as update_id,
        {#- hours since the update, binned 0-2, 2-4, 4-8, 8-16, 16-32, 32-64 #}
        case
            when update_candidates.update_id is null then -1
            when update_candidates.minutes_since_update < 120 then 0
            when update_candidates.minutes_since_update < 240 then 1
            when update_candidates.minutes_since_update < 480 then 2
            when update_candidates.minutes_since_update < 960 then 3
            when update_candidates.minutes_since_update < 1920 then 4
            else 5
        end as update_bin,
        {{ dbt.date_trunc('day', dbt.dateadd('hour', 9, 'with_discount.slot_at')) }} as kst_day,
        cast(
            (
                extract(hour from {{ dbt.dateadd('hour', 9, 'with_discount.slot_at') }}) * 60
                + extract(minute from with_discount.slot_at)
            ) / {{ poll_minutes }} as integer
        ) as slot_of_day
    from with_discount
    left join update_candidates
        on
            with_discount.steam_appid = update_candidates.steam_appid
            and with_discount.slot_at = update_candidates.slot_at
            and update_candidates.recency = 1

),

{{ fe_sweep(
    'log_players', 'keyed', 'ln(players)',
    ['steam_appid', 'slot_at', 'players', 'discount_percent', 'update_id', 'update_bin',
     'kst_day', 'slot_of_day'],
    cell, slot, passes
) }}

baselined as (

    select
        *,
        exp(ln(players) - log_players_resid) as baseline_players
    from log_players_{{ 2 * passes + 1 }}

),

{#- The linearised additive model: players / baseline - 1, swept again (a Gauss-Newton step). #}
{{ fe_sweep(
    'ratio', 'baselined', 'players / baseline_players - 1',
    ['steam_appid', 'slot_at', 'players', 'discount_percent', 'update_id', 'update_bin',
     'kst_day', 'slot_of_day', 'baseline_players', 'log_players_resid'],
    cell, slot, passes
) }}

final as (

    select
        swept.steam_appid,
        games.game_key,
        swept.slot_at,
        cast(swept.kst_day as date) as kst_day,
        swept.slot_of_day,
        swept.discount_percent,
        swept.update_id,
        swept.update_bin,
        swept.players,
        coalesce(live_viewers.live_viewers, 0) as live_viewers,
        cast(swept.baseline_players as double precision) as baseline_players,
        cast(swept.log_players_resid as double precision) as log_players_resid,
        cast(swept.ratio_resid as double precision) as players_resid
    from ratio_{{ 2 * passes + 1 }} as swept
    left join games
        on swept.steam_appid = games.steam_appid
    left join live_viewers
        on
            swept.steam_appid = live_viewers.steam_appid
            and swept.slot_at = live_viewers.slot_at

)

select * from final
