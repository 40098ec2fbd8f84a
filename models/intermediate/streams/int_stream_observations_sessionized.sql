{#-
    Each observation with its broadcast session. A new session starts at a
    channel's first observation, when the broadcast id changes, or when the
    silence since the previous observation is longer than
    var('session_gap_minutes'); the silence is the time between the two
    observations less the var('poll_interval_minutes') the earlier one
    stands for (so one missed 10-minute poll still joins at the default
    15 minutes, two missed polls do not).
-#}
{%- set poll_seconds = var('poll_interval_minutes') * 60 %}
{%- set gap_seconds = var('session_gap_minutes') * 60 %}

with

observations as (

    select * from {{ ref('int_stream_observations_unioned') }}

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
    from observations

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
        min(observed_at) over (
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

)

select * from final
