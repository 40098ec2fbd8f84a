{#-
    The analyst's to-do list: categories that are not in the seed map,
    largest audience first, with the game or Steam app the name matcher
    proposes. Viewer share = the category's summed viewer count over all
    observations / the platform's summed viewer count (uncategorised
    broadcasts included in the denominator).
-#}
with

categories as (

    select * from {{ ref('int_platform_categories_mapped') }}

),

platform_totals as (

    select
        platform,
        sum(viewer_count_sum) as platform_viewer_count_sum
    from categories
    group by platform

),

observations as (

    select * from {{ ref('int_stream_observations_unioned') }}

),

uncategorized_totals as (

    select
        platform,
        sum(viewer_count) as uncategorized_viewer_count_sum
    from observations
    where category_id is null
    group by platform

),

unmapped as (

    select *
    from categories
    where match_method is null or match_method <> 'seed'

),

final as (

    select
        unmapped.platform,
        unmapped.category_id,
        unmapped.category_name,
        unmapped.category_kind,
        unmapped.game_key as proposed_game_key,
        unmapped.steam_appid as proposed_steam_appid,
        unmapped.matched_name as proposed_name,
        unmapped.match_method,
        unmapped.observation_count,
        unmapped.viewer_count_sum,
        cast(
            1.0 * unmapped.viewer_count_sum / nullif(
                platform_totals.platform_viewer_count_sum
                + coalesce(uncategorized_totals.uncategorized_viewer_count_sum, 0),
                0
            ) as {{ dbt.type_float() }}
        ) as viewer_share,
        unmapped.first_seen_at,
        unmapped.last_seen_at
    from unmapped
    inner join platform_totals
        on unmapped.platform = platform_totals.platform
    left join uncategorized_totals
        on unmapped.platform = uncategorized_totals.platform

)

select * from final
