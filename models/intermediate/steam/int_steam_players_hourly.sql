{{
    config(
        materialized='incremental',
        incremental_strategy='window_replace',
        incremental_predicates=[window_predicate('hour_at', 'hour_at', trunc='hour')],
        on_schema_change='append_new_columns',
    )
}}
{#- Steam concurrent players per app per UTC hour (successful polls only).
    Incremental: each run replaces the UTC hours from var('lookback_hours')
    before the newest hour built.
-#}
with

current_players as (

    select * from {{ ref('stg_steam__current_players') }}
    {%- if is_incremental() %}
        where observed_at >= {{ window_start('hour_at', trunc='hour') }}
    {%- endif %}

),

games as (

    select * from {{ ref('games') }}

),

hourly as (

    select
        steam_appid,
        {{ dbt.date_trunc('hour', 'observed_at') }} as hour_at,
        count(*) as poll_count,
        count(player_count) as observation_count,
        avg(1.0 * player_count) as avg_players,
        max(player_count) as peak_players,
        min(player_count) as min_players
    from current_players
    group by
        steam_appid,
        {{ dbt.date_trunc('hour', 'observed_at') }}

),

final as (

    select
        hourly.steam_appid,
        games.game_key,
        hourly.hour_at,
        hourly.poll_count,
        hourly.observation_count,
        cast(hourly.avg_players as {{ dbt.type_float() }}) as avg_players,
        hourly.peak_players,
        hourly.min_players
    from hourly
    left join games
        on hourly.steam_appid = games.steam_appid
    where hourly.observation_count > 0

)

select * from final
