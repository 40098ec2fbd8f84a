{{
    config(
        materialized='incremental',
        unique_key='game_hour_id',
        incremental_strategy='window_replace',
        incremental_predicates=[window_predicate('hour_at', 'hour_at')],
        on_schema_change='append_new_columns',
    )
}}
{{ config(dist='game_key', sort=['hour_at', 'platform']) if target.type == 'redshift' }}
{#-
    Audience of each canonical game per streaming platform and UTC hour,
    plus platform = 'all' rows (the three platforms together; these rows
    also exist for hours with Steam players but no live channel). See docs
    `game_audience_metrics` for the measures. Incremental: each run rebuilds
    the hours from var('lookback_hours') before the newest hour already
    built (window_replace on game_hour_id).
-#}
{%- set hour_filter -%}
    {%- if is_incremental() %}
        >= (
            {# an empty table (a first build on an empty window) re-reads all #}
            select coalesce(
                {{ dbt.dateadd('hour', -1 * var('lookback_hours'), 'max(hour_at)') }},
                cast('1900-01-01' as {{ dbt.type_timestamp() }})
            )
            from {{ this }}
        )
    {%- endif %}
{%- endset %}

with

game_viewers_hourly as (

    select * from {{ ref('int_game_viewers_hourly') }}
    {%- if is_incremental() %}
        where hour_at {{ hour_filter }}
    {%- endif %}

),

steam_players_hourly as (

    select * from {{ ref('int_steam_players_hourly') }}
    {%- if is_incremental() %}
        where hour_at {{ hour_filter }}
    {%- endif %}

),

steam_players as (

    select * from steam_players_hourly
    where game_key is not null

),

price_periods as (

    select * from {{ ref('int_steam_price_periods') }}
    where game_key is not null

),

platform_hourly as (

    select * from game_viewers_hourly
    where platform <> 'all'

),

all_platforms_hourly as (

    select * from game_viewers_hourly
    where platform = 'all'

),

all_platforms_with_steam as (

    {#- The 'all' rows also exist for hours with Steam players but nobody live. #}
    select
        coalesce(all_platforms_hourly.game_key, steam_players.game_key) as game_key,
        'all' as platform,
        coalesce(all_platforms_hourly.hour_at, steam_players.hour_at) as hour_at,
        coalesce(all_platforms_hourly.avg_viewers, 0) as avg_viewers,
        coalesce(all_platforms_hourly.peak_viewers, 0) as peak_viewers,
        coalesce(all_platforms_hourly.avg_channels, 0) as avg_channels,
        coalesce(all_platforms_hourly.peak_channels, 0) as peak_channels,
        coalesce(all_platforms_hourly.airtime_hours, 0) as airtime_hours,
        coalesce(all_platforms_hourly.hours_watched, 0) as hours_watched
    from all_platforms_hourly
    full outer join steam_players
        on
            all_platforms_hourly.game_key = steam_players.game_key
            and all_platforms_hourly.hour_at = steam_players.hour_at

),

unioned as (

    select
        game_key,
        platform,
        hour_at,
        avg_viewers,
        peak_viewers,
        avg_channels,
        peak_channels,
        airtime_hours,
        hours_watched
    from platform_hourly
    union all
    select * from all_platforms_with_steam

),

final as (

    select
        cast(
            {{ surrogate_key(['unioned.game_key', 'unioned.platform', 'unioned.hour_at']) }}
            as {{ dbt.type_string() }}
        ) as game_hour_id,
        cast(unioned.game_key as {{ dbt.type_string() }}) as game_key,
        cast(unioned.platform as {{ dbt.type_string() }}) as platform,
        cast(unioned.hour_at as {{ dbt.type_timestamp() }}) as hour_at,
        cast(unioned.hour_at as date) as hour_date,
        cast(unioned.avg_viewers as double precision) as avg_viewers,
        cast(unioned.peak_viewers as {{ dbt.type_bigint() }}) as peak_viewers,
        cast(unioned.avg_channels as double precision) as avg_channels,
        cast(unioned.peak_channels as {{ dbt.type_bigint() }}) as peak_channels,
        cast(unioned.airtime_hours as double precision) as airtime_hours,
        cast(unioned.hours_watched as double precision) as hours_watched,
        cast(
            unioned.avg_viewers / nullif(unioned.avg_channels, 0) as double precision
        ) as viewer_ratio,
        cast(steam_players.avg_players as double precision) as steam_avg_players,
        cast(steam_players.peak_players as {{ dbt.type_bigint() }}) as steam_peak_players,
        cast(
            unioned.avg_viewers / nullif(steam_players.avg_players, 0)
            as double precision
        ) as viewer_to_player_ratio,
        cast(price_periods.discount_percent as {{ dbt.type_int() }}) as discount_percent
    from unioned
    left join steam_players
        on
            unioned.game_key = steam_players.game_key
            and unioned.hour_at = steam_players.hour_at
    left join price_periods
        on
            unioned.game_key = price_periods.game_key
            and price_periods.valid_from < {{ dbt.dateadd('hour', 1, 'unioned.hour_at') }}
            and (
                price_periods.valid_to is null
                or price_periods.valid_to >= {{ dbt.dateadd('hour', 1, 'unioned.hour_at') }}
            )

)

select * from final
