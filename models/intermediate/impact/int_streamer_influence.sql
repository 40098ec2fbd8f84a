{#-
    One row per streamer with at least one impact event: estimated influence
    = extra Steam players per 1,000 viewers, the viewer-weighted average of
    the streamer's attributed event lifts (docs `streamer_impact_method`).
-#}
with

impact_events as (

    select * from {{ ref('fct_streamer_game_impact') }}

),

per_streamer as (

    select
        platform,
        channel_id,
        count(*) as influence_events,
        sum(case when confidence = 'high' then 1 else 0 end) as high_confidence_events,
        sum(case when is_overlapping then 1 else 0 end) as overlapping_events,
        sum(lift_players * attribution_share) as attributed_lift_players,
        sum(streamer_avg_viewers) as viewers_sum,
        min(started_at) as first_event_at,
        max(started_at) as last_event_at
    from impact_events
    group by
        platform,
        channel_id

),

final as (

    select
        cast(platform as {{ dbt.type_string() }}) as platform,
        cast(channel_id as {{ dbt.type_string() }}) as channel_id,
        cast(
            1000.0 * attributed_lift_players / viewers_sum as {{ dbt.type_float() }}
        ) as estimated_influence,
        cast(influence_events as {{ dbt.type_int() }}) as influence_events,
        cast(high_confidence_events as {{ dbt.type_int() }}) as high_confidence_events,
        cast(overlapping_events as {{ dbt.type_int() }}) as overlapping_events,
        cast(first_event_at as {{ dbt.type_timestamp() }}) as first_event_at,
        cast(last_event_at as {{ dbt.type_timestamp() }}) as last_event_at
    from per_streamer

)

select * from final
