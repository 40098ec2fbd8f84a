{#-
    Two consecutive sessions of a channel are separated by a silence longer
    than var('session_gap_minutes') (distance less one poll interval) or by
    a change of broadcast id; otherwise they should have been one session.
-#}
with

observations as (

    select * from {{ ref('int_stream_observations_sessionized') }}

),

with_previous as (

    select
        session_id,
        platform,
        channel_id,
        observed_at,
        stream_id,
        is_session_start,
        lag(observed_at) over (
            partition by platform, channel_id
            order by observed_at
        ) as previous_observed_at,
        lag(stream_id) over (
            partition by platform, channel_id
            order by observed_at
        ) as previous_stream_id,
        lag(session_id) over (
            partition by platform, channel_id
            order by observed_at
        ) as previous_session_id
    from observations

),

classified as (

    select
        *,
        case
            when previous_observed_at is null then true
            when
                {{ seconds_between('previous_observed_at', 'observed_at') }}
                - {{ var('poll_interval_minutes') * 60 }}
                > {{ var('session_gap_minutes') * 60 }}
                then true
            when stream_id <> previous_stream_id then true
            else false
        end as should_start_session
    from with_previous

),

final as (

    select *
    from classified
    where
        should_start_session <> is_session_start
        or (not is_session_start and session_id <> previous_session_id)

)

select * from final
