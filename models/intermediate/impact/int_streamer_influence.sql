{#-
    One row per streamer with a start event on a Steam-mapped game in the
    fit window or any exposure in it: the within-day estimate of influence
    (extra Steam players per 1,000 viewers) with its 90 % interval and an
    evidence label: the joint least-squares slopes of int_impact_fit,
    standard errors clustered by streamer x game x KST day from the joint
    fit's residuals, empirical-Bayes shrinkage toward zero. Fitted once per
    fit_id (macros/impact_fit.sql). Method: docs block
    `streamer_impact_method`.
-#}
{{ config(
    materialized='incremental',
    incremental_strategy='fit_replace',
    on_schema_change='append_new_columns',
) }}
{%- set min_events = var('impact_min_events') | int(3) %}
{%- set z90 = 1.6448536 %}

with

design as (

    select * from {{ ref('int_impact_design') }}

),

start_events as (

    select * from {{ ref('int_impact_start_events') }}

),

fit_window as (

    select * from {{ ref('int_impact_fit_window') }}

),

events as (

    select
        start_events.platform,
        start_events.channel_id,
        count(*) as influence_events
    from start_events
    inner join fit_window
        on
            start_events.started_at >= fit_window.window_start_at
            and start_events.started_at < fit_window.window_end_at
    group by
        start_events.platform,
        start_events.channel_id

),

slopes as (

    select * from {{ ref('int_impact_fit') }}

),

residuals as (

    {#- The players' residual left by every streamer's fitted effect, per app and slot. #}
    select
        design.steam_appid,
        design.slot_at,
        max(design.players_resid) - sum(design.exposure_resid * slopes.slope)
            as fit_resid
    from design
    inner join slopes
        on
            design.platform = slopes.platform
            and design.channel_id = slopes.channel_id
    group by
        design.steam_appid,
        design.slot_at

),

clusters as (

    {#- Scores per streamer x game x KST day: the clusters of the standard errors. #}
    select
        design.platform,
        design.channel_id,
        design.steam_appid,
        design.kst_day,
        sum(design.exposure_resid * residuals.fit_resid) as score,
        sum(case when design.exposure_viewers > 0 then 1 else 0 end) as exposed_polls
    from design
    inner join residuals
        on
            design.steam_appid = residuals.steam_appid
            and design.slot_at = residuals.slot_at
    group by
        design.platform,
        design.channel_id,
        design.steam_appid,
        design.kst_day

),

standard_errors as (

    select
        slopes.platform,
        slopes.channel_id,
        slopes.slope,
        sum(clusters.exposed_polls) as exposed_polls,
        count(*) as cluster_count,
        {#- cluster-robust (sandwich) variance with the small-sample factor G / (G - 1) #}
        case
            when count(*) > 1
                then
                    sum(clusters.score * clusters.score) / (slopes.sum_zz * slopes.sum_zz)
                    * count(*) / (count(*) - 1.0)
        end as slope_variance
    from slopes
    inner join clusters
        on
            slopes.platform = clusters.platform
            and slopes.channel_id = clusters.channel_id
    group by
        slopes.platform,
        slopes.channel_id,
        slopes.slope,
        slopes.sum_zz

),

shrinkage as (

    {#- Spread of true influences: the estimates' excess variance over noise. #}
    select
        greatest(
            avg(slope * slope - slope_variance),
            avg(slope_variance) / 10.0
        ) as tau2
    from standard_errors
    where slope_variance > 0

),

shrunk as (

    select
        standard_errors.platform,
        standard_errors.channel_id,
        standard_errors.slope,
        sqrt(standard_errors.slope_variance) as slope_se,
        standard_errors.exposed_polls,
        standard_errors.slope
        * shrinkage.tau2
        / (shrinkage.tau2 + standard_errors.slope_variance) as posterior_mean,
        sqrt(
            shrinkage.tau2 * standard_errors.slope_variance
            / (shrinkage.tau2 + standard_errors.slope_variance)
        ) as posterior_sd
    from standard_errors
    cross join shrinkage
    where standard_errors.slope_variance > 0

),

streamers as (

    select
        platform,
        channel_id
    from events
    union
    select
        platform,
        channel_id
    from shrunk

),

final as (

    select
        cast(streamers.platform as {{ dbt.type_string() }}) as platform,
        cast(streamers.channel_id as {{ dbt.type_string() }}) as channel_id,
        cast(shrunk.posterior_mean as double precision) as estimated_influence,
        cast(shrunk.posterior_mean - {{ z90 }} * shrunk.posterior_sd as double precision)
            as influence_ci_low,
        cast(shrunk.posterior_mean + {{ z90 }} * shrunk.posterior_sd as double precision)
            as influence_ci_high,
        cast(shrunk.slope as double precision) as unshrunk_influence,
        cast(shrunk.slope_se as double precision) as unshrunk_influence_se,
        cast(coalesce(events.influence_events, 0) as {{ dbt.type_int() }}) as influence_events,
        cast(coalesce(shrunk.exposed_polls, 0) as {{ dbt.type_int() }}) as exposed_polls,
        cast(
            case
                when
                    shrunk.posterior_mean is null
                    or coalesce(events.influence_events, 0) < {{ min_events }}
                    then 'insufficient'
                when shrunk.posterior_mean - {{ z90 }} * shrunk.posterior_sd > 0 then 'strong'
                else 'weak'
            end as {{ dbt.type_string() }}
        ) as influence_evidence,
        fit_window.fit_id
    from streamers
    left join shrunk
        on
            streamers.platform = shrunk.platform
            and streamers.channel_id = shrunk.channel_id
    left join events
        on
            streamers.platform = events.platform
            and streamers.channel_id = events.channel_id
    cross join fit_window

)

select * from final
{%- if is_incremental() and fit_kept() %}
    where 1 = 0  {#- the fit of this fit_id is in the table: keep it, select nothing #}
{%- endif %}
