{%- set window_predicates = [
    window_predicate('last_observed_at', 'last_observed_at', session_reach_minutes()),
    'is_current',
] %}
{{
    config(
        materialized='incremental',
        unique_key='spell_id',
        incremental_strategy='window_replace',
        incremental_predicates=window_predicates,
        on_schema_change='append_new_columns',
    )
}}
{#-
    Contiguous intervals a channel spends on one category (game) inside one
    session, exact to the poll. valid_from is the spell's first observation;
    valid_to is its last observation + var('poll_interval_minutes'), cut back
    to the next spell's start if that comes earlier, so a channel's spells
    never overlap. Unmapped categories keep their category_id with a null
    game_key; uncategorised stretches are spells with a null category_id.

    Incremental: like int_broadcast_sessions_sessionized, each run rebuilds
    the spells of the sessions that reach into the window and of the
    current spells, from all their sessions' observations; a spell's
    valid_to only depends on later spells, which are all rebuilt with it.
-#}
{%- set poll_minutes = var('poll_interval_minutes') %}

with

{{ sessions_in_window_ctes('last_observed_at', 'is_current') }}

keyed as (

    select
        *,
        coalesce(category_id, '(uncategorized)') as category_key
    from observations

),

with_previous as (

    select
        *,
        lag(category_key) over (
            partition by session_id
            order by observed_at
        ) as previous_category_key
    from keyed

),

numbered as (

    select
        *,
        sum(
            case
                when previous_category_key is null then 1
                when previous_category_key <> category_key then 1
                else 0
            end
        ) over (
            partition by session_id
            order by observed_at
            rows between unbounded preceding and current row
        ) as spell_number
    from with_previous

),

spells as (

    select
        session_id,
        spell_number,
        platform,
        channel_id,
        max(category_id) as category_id,
        max(category_name) as category_name,
        max(category_kind) as category_kind,
        max(game_key) as game_key,
        max(steam_appid) as steam_appid,
        min(observed_at) as valid_from,
        max(observed_at) as last_observed_at,
        count(*) as observation_count,
        avg(1.0 * viewer_count) as avg_viewers,
        max(viewer_count) as peak_viewers
    from numbered
    group by
        session_id,
        spell_number,
        platform,
        channel_id

),

with_next as (

    select
        *,
        {{ add_minutes('last_observed_at', poll_minutes) }} as nominal_valid_to,
        lead(valid_from) over (
            partition by platform, channel_id
            order by valid_from
        ) as next_valid_from
    from spells

),

final as (

    select
        {{ surrogate_key(['with_next.platform', 'with_next.channel_id', 'with_next.valid_from']) }}
            as spell_id,
        with_next.platform,
        with_next.channel_id,
        with_next.game_key,
        with_next.category_id,
        with_next.category_name,
        with_next.category_kind,
        with_next.steam_appid,
        with_next.valid_from,
        case
            when with_next.next_valid_from < with_next.nominal_valid_to
                then with_next.next_valid_from
            else with_next.nominal_valid_to
        end as valid_to,
        with_next.last_observed_at,
        coalesce(
            with_next.next_valid_from is null
            and with_next.last_observed_at = latest_polls.latest_observed_at,
            false
        ) as is_current,
        with_next.session_id,
        with_next.spell_number as spell_number_in_session,
        with_next.observation_count,
        cast(with_next.avg_viewers as {{ dbt.type_float() }}) as avg_viewers,
        with_next.peak_viewers
    from with_next
    inner join latest_polls
        on with_next.platform = latest_polls.platform

)

select * from final
