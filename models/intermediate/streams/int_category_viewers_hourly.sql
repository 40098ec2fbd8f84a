{{
    config(
        materialized='incremental',
        incremental_strategy='window_replace',
        incremental_predicates=[window_predicate('hour_at', 'hour_at', trunc='hour')],
        on_schema_change='append_new_columns',
    )
}}
{#-
    Audience per platform, UTC hour and category. Averages divide by every
    poll the platform made in that hour, not only the polls where the
    category had live channels, so a category live for half the hour gets
    half the average. Peak values are per poll (sum over the category's
    channels at one poll). Uncategorised broadcasts form their own row with
    a null category_id.

    Incremental: each run replaces the UTC hours from var('lookback_hours')
    before the newest hour built.
-#}

with

category_viewers_polled as (

    select * from {{ ref('int_category_viewers_polled') }}
    {%- if is_incremental() %}
        where hour_at >= {{ window_start('hour_at', trunc='hour') }}
    {%- endif %}

),

hourly as (

    select
        platform,
        hour_at,
        category_id,
        max(category_name) as category_name,
        max(category_kind) as category_kind,
        max(game_key) as game_key,
        max(steam_appid) as steam_appid,
        max(poll_count) as poll_count,
        count(*) as live_poll_count,
        sum(viewer_count) as viewer_count_sum,
        max(viewer_count) as peak_viewers,
        sum(channel_count) as channel_count_sum,
        max(channel_count) as peak_channels
    from category_viewers_polled
    group by
        platform,
        hour_at,
        category_id

),

final as (

    select
        platform,
        hour_at,
        category_id,
        category_name,
        category_kind,
        game_key,
        steam_appid,
        poll_count,
        live_poll_count,
        cast(1.0 * viewer_count_sum / poll_count as {{ dbt.type_float() }}) as avg_viewers,
        peak_viewers,
        cast(1.0 * channel_count_sum / poll_count as {{ dbt.type_float() }}) as avg_channels,
        peak_channels,
        cast({{ hours_watched('viewer_count_sum') }} as {{ dbt.type_float() }}) as hours_watched
    from hourly

)

select * from final
