{#-
    The normal equations of the joint streamer-influence fit: one row per
    pair of streamers whose exposure residuals share a panel slot of some
    game (the streamer with itself included), with their cross-product
    (gram), and, repeated on every row of a streamer, that streamer's
    cross-product with the players' residual (target) and its own sum of
    squares (diagonal). int_impact_fit solves gram x b = target by
    damped Jacobi iterations with the step in `step`: 1.9 / the largest
    absolute row sum of the diagonally scaled gram (Gershgorin), which
    bounds its largest eigenvalue, so the iterations converge.
    Fitted once per fit_id (macros/impact_fit.sql). Method: docs block
    `streamer_impact_method`.
-#}
{{ config(
    materialized='incremental',
    incremental_strategy='fit_replace',
    on_schema_change='append_new_columns',
) }}

with

fit_window as (

    select * from {{ ref('int_impact_fit_window') }}

),

design as (

    select * from {{ ref('int_impact_design') }}

),

per_streamer as (

    {#- A streamer's regressor at a slot: its pairs are one per app, so no sum is needed. #}
    select
        platform,
        channel_id,
        steam_appid,
        slot_at,
        exposure_share,
        exposure_resid,
        players_resid
    from design

),

exposed as (

    {#-
        The slots with exposure. The sweep is a projection (M = I - P, symmetric and
        idempotent), so (M z)'(M z') = z'(M z'): each cross-product needs one side only
        where its raw regressor is non-zero, which keeps the join sparse.
    #}
    select * from per_streamer
    where exposure_share <> 0

),

cross_products as (

    select
        own.platform,
        own.channel_id,
        other.platform as other_platform,
        other.channel_id as other_channel_id,
        sum(own.exposure_share * other.exposure_resid) as gram
    from exposed as own
    inner join per_streamer as other
        on
            own.steam_appid = other.steam_appid
            and own.slot_at = other.slot_at
    group by
        own.platform,
        own.channel_id,
        other.platform,
        other.channel_id

),

targets as (

    select
        platform,
        channel_id,
        sum(exposure_share * players_resid) as target,
        sum(exposure_share * exposure_resid) as diagonal
    from exposed
    group by
        platform,
        channel_id
    having sum(exposure_share * exposure_resid) > 0

),

final_rows as (

    select
        cross_products.platform,
        cross_products.channel_id,
        cross_products.other_platform,
        cross_products.other_channel_id,
        cast(cross_products.gram as double precision) as gram,
        cast(targets.target as double precision) as target,
        cast(targets.diagonal as double precision) as diagonal,
        cast(other_targets.diagonal as double precision) as other_diagonal,
        (
            cross_products.platform = cross_products.other_platform
            and cross_products.channel_id = cross_products.other_channel_id
        ) as is_diagonal
    from cross_products
    inner join targets
        on
            cross_products.platform = targets.platform
            and cross_products.channel_id = targets.channel_id
    inner join targets as other_targets
        on
            cross_products.other_platform = other_targets.platform
            and cross_products.other_channel_id = other_targets.channel_id

),

scaled_row_sums as (

    select
        platform,
        channel_id,
        sum(abs(gram) / sqrt(diagonal * other_diagonal)) as scaled_row_sum
    from final_rows
    group by
        platform,
        channel_id

),

final as (

    select
        final_rows.*,
        cast(
            1.9 / (select max(scaled_row_sums.scaled_row_sum) from scaled_row_sums)
            as double precision
        ) as step,
        fit_window.fit_id
    from final_rows
    cross join fit_window

)

select * from final
{%- if is_incremental() and fit_kept() %}
    where 1 = 0  {#- the fit of this fit_id is in the table: keep it, select nothing #}
{%- endif %}
