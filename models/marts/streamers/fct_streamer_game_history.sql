{%- set window_predicates = [
    window_predicate('last_observed_at', 'last_observed_at', session_reach_minutes()),
    'is_current',
] %}
{{
    config(
        materialized='incremental',
        unique_key='history_id',
        incremental_strategy='window_replace',
        incremental_predicates=window_predicates,
        on_schema_change='append_new_columns',
    )
}}
{{ config(dist='streamer_id', sort=['valid_from']) if target.type == 'redshift' }}
{#-
    Streamer -> game history as a type-2 table: one row per spell a channel
    spent on one category, exact to the poll. valid_to is exclusive and
    never null (last observation + one poll interval, cut back to the next
    spell's start); ranges of a channel never overlap, and gaps between
    them are offline time.

    Incremental: each run replaces the spells that reach into the window
    of int_streamer_game_spells and those that were current.
-#}

with

spells as (

    select * from {{ ref('int_streamer_game_spells') }}
    {%- if is_incremental() %}
        where
            last_observed_at >= {{ window_start('last_observed_at', session_reach_minutes()) }}
            or spell_id in (
                select built.history_id from {{ this }} as built
                where built.is_current
            )
    {%- endif %}

),

final as (

    select
        cast(spell_id as {{ dbt.type_string() }}) as history_id,
        cast(
            {{ surrogate_key(['platform', 'channel_id']) }} as {{ dbt.type_string() }}
        ) as streamer_id,
        cast(platform as {{ dbt.type_string() }}) as platform,
        cast(channel_id as {{ dbt.type_string() }}) as channel_id,
        cast(game_key as {{ dbt.type_string() }}) as game_key,
        cast(category_id as {{ dbt.type_string() }}) as category_id,
        cast(category_name as {{ dbt.type_string() }}) as category_name,
        cast(category_kind as {{ dbt.type_string() }}) as category_kind,
        cast(steam_appid as {{ dbt.type_bigint() }}) as steam_appid,
        cast(valid_from as {{ dbt.type_timestamp() }}) as valid_from,
        cast(valid_to as {{ dbt.type_timestamp() }}) as valid_to,
        cast(last_observed_at as {{ dbt.type_timestamp() }}) as last_observed_at,
        cast(is_current as {{ dbt.type_boolean() }}) as is_current,
        cast(session_id as {{ dbt.type_string() }}) as broadcast_id,
        cast(spell_number_in_session as {{ dbt.type_int() }}) as spell_number_in_broadcast,
        cast(observation_count as {{ dbt.type_bigint() }}) as observation_count,
        cast(
            {{ airtime_hours('observation_count') }} as double precision
        ) as airtime_hours,
        cast(avg_viewers as double precision) as avg_viewers,
        cast(peak_viewers as {{ dbt.type_bigint() }}) as peak_viewers,
        cast(
            {{ hours_watched('avg_viewers * observation_count') }}
            as double precision
        ) as hours_watched
    from spells

)

select * from final
