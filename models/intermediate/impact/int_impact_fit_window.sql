{#-
    The window of the streamer-influence fit, one row: the last
    var('impact_window_days') whole KST days before the newest Steam player
    poll's day (a day counts once its last poll slot is in: the newest poll
    plus one poll interval reaches the next day), and fit_id, a fingerprint
    of that window and of everything the fit reads inside it (counts and
    totals of the player polls, the streams' observations from the exposure
    window before it, the category viewers, price periods, updates, the
    games catalogue and the fit's settings; the start events are spells of
    those observations, so they change with them). The fitted models
    (int_impact_design, int_impact_gram, int_impact_fit,
    int_streamer_influence) keep their rows while fit_id stays the same
    (macro `fit_kept`) and are re-fitted when it changes: once a KST day,
    when the window moves, and when polls arrive late inside it.
    Method: docs block `streamer_impact_method`.
-#}
{%- set poll_minutes = var('poll_interval_minutes') | int(10) %}
{%- set window_days = var('impact_window_days') | int(14) %}
{%- set from_minutes = var('impact_exposure_from_minutes') | int(30) %}
{%- set to_minutes = var('impact_exposure_to_minutes') | int(120) %}
{%- set reach_minutes = to_minutes + poll_minutes %}
{%- set settings = [
    window_days, poll_minutes, from_minutes, to_minutes,
    var('impact_sweep_passes') | int(2), var('impact_solver_iterations') | int(40),
    var('impact_min_events') | int(3)
] | join('/') %}

{%- set fingerprinted = [
    'window_start_at', 'window_end_at', 'settings', 'player_polls', 'player_total',
    'observations', 'observed_viewers', 'category_polls', 'category_viewers',
    'price_periods', 'discount_total', 'newest_price_from', 'oldest_price_to', 'updates',
    'newest_update_at', 'games', 'appid_total'
] %}
{%- set fingerprint_parts = [] %}
{%- for column in fingerprinted %}
    {%- do fingerprint_parts.append(
        "coalesce(cast(" ~ column ~ " as " ~ dbt.type_string() ~ "), '-')"
    ) %}
    {%- if not loop.last %}
        {%- do fingerprint_parts.append("'|'") %}
    {%- endif %}
{%- endfor %}
with

players as (

    select * from {{ ref('stg_steam__current_players') }}
    where
        is_success
        and player_count > 0

),

observations as (

    select * from {{ ref('int_stream_observations_unioned') }}
    where
        steam_appid is not null
        and category_kind = 'game'

),

category_viewers as (

    select * from {{ ref('int_category_viewers_polled') }}
    where steam_appid is not null

),

price_periods as (

    select * from {{ ref('int_steam_price_periods') }}

),

updates as (

    select * from {{ ref('int_steam_update_events') }}

),

games as (

    select * from {{ ref('games') }}
    where steam_appid is not null

),

newest_poll as (

    select max(observed_at) as newest_polled_at
    from players

),

bounds as (

    {#- KST midnight = 15:00 UTC: truncate in KST, back to UTC. #}
    select
        cast(
            {{ dbt.dateadd('hour', -9, dbt.date_trunc(
                'day', dbt.dateadd('minute', poll_minutes + 9 * 60, 'newest_polled_at')
            )) }}
            as {{ dbt.type_timestamp() }}
        ) as window_end_at
    from newest_poll

),

window_bounds as (

    select
        cast({{ dbt.dateadd('day', -window_days, 'window_end_at') }} as {{ dbt.type_timestamp() }})
            as window_start_at,
        window_end_at
    from bounds

),

player_inputs as (

    select
        count(*) as player_polls,
        sum(players.player_count) as player_total
    from players
    inner join window_bounds
        on
            players.observed_at >= window_bounds.window_start_at
            and players.observed_at < window_bounds.window_end_at

),

observation_inputs as (

    {#- The exposure of the window's first slots reads the polls before it. #}
    select
        count(*) as observations,
        sum(observations.viewer_count) as observed_viewers
    from observations
    inner join window_bounds
        on
            observations.observed_at
            >= {{ dbt.dateadd('minute', -reach_minutes, 'window_bounds.window_start_at') }}
            and observations.observed_at < window_bounds.window_end_at

),

category_inputs as (

    select
        count(*) as category_polls,
        sum(category_viewers.viewer_count) as category_viewers
    from category_viewers
    inner join window_bounds
        on
            category_viewers.poll_slot_at >= window_bounds.window_start_at
            and category_viewers.poll_slot_at < window_bounds.window_end_at

),

price_inputs as (

    {#- The periods in force during the window, and where they start and end inside it. #}
    select
        count(*) as price_periods,
        sum(price_periods.discount_percent) as discount_total,
        max(price_periods.valid_from) as newest_price_from,
        min(price_periods.valid_to) as oldest_price_to
    from price_periods
    inner join window_bounds
        on
            price_periods.valid_from < window_bounds.window_end_at
            and (
                price_periods.valid_to is null
                or price_periods.valid_to > window_bounds.window_start_at
            )

),

update_inputs as (

    {#- An update's bins reach 64 hours past it. #}
    select
        count(*) as updates,
        max(updates.updated_at) as newest_update_at
    from updates
    inner join window_bounds
        on
            updates.updated_at >= {{ dbt.dateadd('hour', -64, 'window_bounds.window_start_at') }}
            and updates.updated_at < window_bounds.window_end_at

),

game_inputs as (

    select
        count(*) as games,
        sum(steam_appid) as appid_total
    from games

),

inputs as (

    select
        window_bounds.window_start_at,
        window_bounds.window_end_at,
        '{{ settings }}' as settings,
        player_inputs.player_polls,
        player_inputs.player_total,
        observation_inputs.observations,
        observation_inputs.observed_viewers,
        category_inputs.category_polls,
        category_inputs.category_viewers,
        price_inputs.price_periods,
        price_inputs.discount_total,
        price_inputs.newest_price_from,
        price_inputs.oldest_price_to,
        update_inputs.updates,
        update_inputs.newest_update_at,
        game_inputs.games,
        game_inputs.appid_total
    from window_bounds
    cross join player_inputs
    cross join observation_inputs
    cross join category_inputs
    cross join price_inputs
    cross join update_inputs
    cross join game_inputs

),

final as (

    select
        window_start_at,
        window_end_at,
        cast(coalesce(player_polls, 0) as {{ dbt.type_bigint() }}) as player_polls,
        cast(coalesce(observations, 0) as {{ dbt.type_bigint() }}) as observations,
        cast(
            {{ dbt.hash(dbt.concat(fingerprint_parts)) }} as {{ dbt.type_string() }}
        ) as fit_id
    from inputs

)

select * from final
