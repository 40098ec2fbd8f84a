{#-
    One row per (platform, category_id) ever seen, in observations or in the
    platform's category list: its name (catalog, else latest observation,
    else seed), the platform's category type, the analyst's seed mapping
    and the category's observation statistics. Game identity is resolved
    downstream (int_platform_category_name_matches, then
    int_platform_categories_mapped).
-#}
with

chzzk_lives as (

    select * from {{ ref('stg_chzzk__lives') }}

),

soop_broads as (

    select * from {{ ref('stg_soop__broads') }}

),

twitch_streams as (

    select * from {{ ref('stg_twitch__streams') }}

),

soop_categories as (

    select * from {{ ref('stg_soop__categories') }}

),

twitch_games as (

    select * from {{ ref('stg_twitch__games') }}

),

category_map as (

    select * from {{ ref('game_category_map') }}

),

observations as (

    {%- for relation in ['chzzk_lives', 'soop_broads', 'twitch_streams'] %}
        select
            platform,
            category_id,
            category_name,
            category_type,
            viewer_count,
            observed_at
        from {{ relation }}
        where category_id is not null
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}

),

observation_stats as (

    select
        platform,
        category_id,
        count(*) as observation_count,
        sum(viewer_count) as viewer_count_sum,
        min(observed_at) as first_seen_at,
        max(observed_at) as last_seen_at
    from observations
    group by
        platform,
        category_id

),

latest_observed_names as (

    select
        platform,
        category_id,
        category_name,
        category_type,
        row_number() over (
            partition by platform, category_id
            order by observed_at desc
        ) as row_num
    from observations
    where category_name is not null or category_type is not null

),

platform_catalog as (

    select
        platform,
        category_id,
        category_name
    from soop_categories

    union all

    select
        platform,
        category_id,
        category_name
    from twitch_games

),

category_keys as (

    select
        platform,
        category_id
    from observation_stats

    union

    select
        platform,
        category_id
    from platform_catalog

),

final as (

    select
        category_keys.platform,
        category_keys.category_id,
        coalesce(
            platform_catalog.category_name,
            latest_observed_names.category_name,
            category_map.category_name
        ) as category_name,
        latest_observed_names.category_type,
        category_map.game_key as seed_game_key,
        coalesce(observation_stats.observation_count, 0) as observation_count,
        coalesce(observation_stats.viewer_count_sum, 0) as viewer_count_sum,
        observation_stats.first_seen_at,
        observation_stats.last_seen_at
    from category_keys
    left join platform_catalog
        on
            category_keys.platform = platform_catalog.platform
            and category_keys.category_id = platform_catalog.category_id
    left join latest_observed_names
        on
            category_keys.platform = latest_observed_names.platform
            and category_keys.category_id = latest_observed_names.category_id
            and latest_observed_names.row_num = 1
    left join category_map
        on
            category_keys.platform = category_map.platform
            and category_keys.category_id = category_map.category_id
    left join observation_stats
        on
            category_keys.platform = observation_stats.platform
            and category_keys.category_id = observation_stats.category_id

)

select * from final
