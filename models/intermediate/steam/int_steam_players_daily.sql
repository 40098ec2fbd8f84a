{{
    config(
        materialized='incremental',
        incremental_strategy='window_replace',
        incremental_predicates=[day_window_predicate('player_date', 'hour_count')],
        on_schema_change='append_new_columns',
    )
}}
{#-
    Steam concurrent players per seeded game and UTC day: the mean of the
    hourly averages and the highest hourly peak over the hours with a
    successful poll (hour_count says how complete the day is).
    Incremental: each run replaces the newest day built, and the day before
    it when the newest had at most var('lookback_hours') hours.
-#}
with

players_hourly as (

    select * from {{ ref('int_steam_players_hourly') }}
    where
        game_key is not null
        {%- if is_incremental() %}
            and hour_at >= {{ day_window_start('player_date', hours_column='hour_count') }}
        {%- endif %}

),

final as (

    select
        game_key,
        cast({{ dbt.date_trunc('day', 'hour_at') }} as date) as player_date,
        count(*) as hour_count,
        avg(avg_players) as avg_players,
        max(peak_players) as peak_players
    from players_hourly
    group by
        game_key,
        cast({{ dbt.date_trunc('day', 'hour_at') }} as date)

)

select * from final
