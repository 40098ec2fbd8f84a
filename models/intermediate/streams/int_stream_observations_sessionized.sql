{{
    config(
        materialized='incremental',
        unique_key='observation_id',
        incremental_strategy='window_replace',
        incremental_predicates=[window_predicate('observed_at', 'observed_at')],
        on_schema_change='append_new_columns',
    )
}}
{#-
    Each observation with its broadcast session. A new session starts at a
    channel's first observation, when the broadcast id changes, or when the
    silence since the previous observation is longer than
    var('session_gap_minutes'); the silence is the time between the two
    observations less the var('poll_interval_minutes') the earlier one
    stands for (so one missed 10-minute poll still joins at the default
    15 minutes, two missed polls do not).

    Incremental: a session depends only on the observations before it, so
    each run re-sessionizes the observations from var('lookback_hours')
    before the newest one built, carrying each channel's last earlier
    observation (its stream and session start) into the window: a session
    live at the boundary goes on, one that ended before it stays closed.
-#}
{%- set poll_seconds = var('poll_interval_minutes') * 60 %}
{%- set gap_seconds = var('session_gap_minutes') * 60 %}

with

observations as (

    select
        *,
        cast(null as {{ dbt.type_timestamp() }}) as carried_session_started_at,
        0 as is_carried
    from {{ ref('int_stream_observations_unioned') }}
    {%- if is_incremental() %}
        where observed_at >= {{ window_start('observed_at') }}
    {%- endif %}

),

{# Each channel's last observation before the window, if close enough to join. #}
carried as (

    {%- if is_incremental() %}
        select
            observation_id,
            platform,
            channel_id,
            channel_name,
            stream_id,
            observed_at,
            observed_hour,
            poll_id,
            viewer_count,
            category_id,
            category_name,
            category_kind,
            game_key,
            steam_appid,
            carried_session_started_at,
            1 as is_carried
        from (
            select
                *,
                session_started_at as carried_session_started_at,
                row_number() over (
                    partition by platform, channel_id
                    order by observed_at desc
                ) as row_num
            from {{ this }}
            where
                observed_at < {{ window_start('observed_at') }}
                and observed_at
                >= {{ window_start('observed_at', session_reach_minutes()) }}
        ) as before_window
        where row_num = 1
    {%- else %}
        select * from observations
        where 1 = 0
    {%- endif %}

),

in_scope as (

    select
        observation_id,
        platform,
        channel_id,
        channel_name,
        stream_id,
        observed_at,
        observed_hour,
        poll_id,
        viewer_count,
        category_id,
        category_name,
        category_kind,
        game_key,
        steam_appid,
        carried_session_started_at,
        is_carried
    from observations
    union all
    select
        observation_id,
        platform,
        channel_id,
        channel_name,
        stream_id,
        observed_at,
        observed_hour,
        poll_id,
        viewer_count,
        category_id,
        category_name,
        category_kind,
        game_key,
        steam_appid,
        carried_session_started_at,
        is_carried
    from carried

),

with_previous as (

    select
        *,
        lag(observed_at) over (
            partition by platform, channel_id
            order by observed_at
        ) as previous_observed_at,
        lag(stream_id) over (
            partition by platform, channel_id
            order by observed_at
        ) as previous_stream_id
    from in_scope

),

flagged as (

    select
        *,
        case
            when previous_observed_at is null then 1
            when
                {{ seconds_between('previous_observed_at', 'observed_at') }}
                - {{ poll_seconds }} > {{ gap_seconds }}
                then 1
            when stream_id <> previous_stream_id then 1
            else 0
        end as is_session_start
    from with_previous

),

numbered as (

    select
        *,
        sum(is_session_start) over (
            partition by platform, channel_id
            order by observed_at
            rows between unbounded preceding and current row
        ) as session_number
    from flagged

),

with_session_start as (

    select
        *,
        {#- A carried observation brings the start of the session it belongs to. #}
        min(coalesce(carried_session_started_at, observed_at)) over (
            partition by platform, channel_id, session_number
        ) as session_started_at
    from numbered

),

final as (

    select
        observation_id,
        {{ surrogate_key(['platform', 'channel_id', 'session_started_at']) }} as session_id,
        platform,
        channel_id,
        channel_name,
        stream_id,
        observed_at,
        observed_hour,
        poll_id,
        viewer_count,
        category_id,
        category_name,
        category_kind,
        game_key,
        steam_appid,
        session_started_at,
        is_session_start = 1 as is_session_start
    from with_session_start
    where is_carried = 0

)

select * from final
