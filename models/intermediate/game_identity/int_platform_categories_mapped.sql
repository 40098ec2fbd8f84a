{#-
    One row per (platform, category_id) ever seen, with its game identity:
    the analyst's seed map first ('seed'), else a unique match of the
    normalised category name (or Chzzk slug) against the alias list
    ('name_match'), else nothing. Non-game categories are labelled by
    category_kind, not dropped.
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

games as (

    select * from {{ ref('games') }}

),

aliases as (

    select * from {{ ref('int_game_name_aliases') }}

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

categories as (

    select
        category_keys.platform,
        category_keys.category_id,
        coalesce(
            platform_catalog.category_name,
            latest_observed_names.category_name,
            category_map.category_name
        ) as category_name,
        latest_observed_names.category_type,
        category_map.game_key as seed_game_key
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

),

candidate_names as (

    select
        platform,
        category_id,
        {{ normalize_game_name('category_name') }} as normalized_name
    from categories
    where seed_game_key is null and category_name is not null

    union

    {#- Chzzk slugs are English names with underscores (Eternal_Return). #}
    select
        platform,
        category_id,
        {{ normalize_game_name('category_id') }} as normalized_name
    from categories
    where seed_game_key is null and platform = 'chzzk'

),

name_matches as (

    select
        candidate_names.platform,
        candidate_names.category_id,
        aliases.game_key,
        aliases.steam_appid,
        aliases.alias_name,
        row_number() over (
            partition by candidate_names.platform, candidate_names.category_id
            order by
                case when aliases.game_key is not null then 0 else 1 end,
                case when aliases.alias_source like 'seed%' then 0 else 1 end,
                aliases.game_key,
                aliases.steam_appid
        ) as match_rank
    from candidate_names
    inner join aliases
        on candidate_names.normalized_name = aliases.normalized_name
    where candidate_names.normalized_name <> ''

),

first_matches as (

    select * from name_matches
    where match_rank = 1

),

derived_aliases as (

    {#-
        Second pass: the names of categories matched in the first pass
        become aliases too, so a Korean-only SOOP name ('이터널 리턴') finds
        the Steam app its Chzzk twin matched through the slug
        (Eternal_Return).
    #}
    select distinct
        {{ normalize_game_name('categories.category_name') }} as normalized_name,
        first_matches.game_key,
        first_matches.steam_appid,
        first_matches.alias_name
    from first_matches
    inner join categories
        on
            first_matches.platform = categories.platform
            and first_matches.category_id = categories.category_id
    where categories.category_name is not null

),

second_matches as (

    select
        candidate_names.platform,
        candidate_names.category_id,
        derived_aliases.game_key,
        derived_aliases.steam_appid,
        derived_aliases.alias_name,
        row_number() over (
            partition by candidate_names.platform, candidate_names.category_id
            order by
                case when derived_aliases.game_key is not null then 0 else 1 end,
                derived_aliases.game_key,
                derived_aliases.steam_appid
        ) as match_rank
    from candidate_names
    inner join derived_aliases
        on candidate_names.normalized_name = derived_aliases.normalized_name
    left join first_matches
        on
            candidate_names.platform = first_matches.platform
            and candidate_names.category_id = first_matches.category_id
    where
        candidate_names.normalized_name <> ''
        and first_matches.category_id is null

),

all_matches as (

    select
        platform,
        category_id,
        game_key,
        steam_appid,
        alias_name
    from first_matches

    union all

    select
        platform,
        category_id,
        game_key,
        steam_appid,
        alias_name
    from second_matches
    where match_rank = 1

),

joined as (

    select
        categories.platform,
        categories.category_id,
        categories.category_name,
        categories.category_type,
        coalesce(categories.seed_game_key, all_matches.game_key) as game_key,
        all_matches.steam_appid as matched_steam_appid,
        all_matches.alias_name as matched_name,
        case
            when categories.seed_game_key is not null then 'seed'
            when all_matches.category_id is not null then 'name_match'
        end as match_method
    from categories
    left join all_matches
        on
            categories.platform = all_matches.platform
            and categories.category_id = all_matches.category_id

),

final as (

    select
        cast(joined.platform as {{ dbt.type_string() }}) as platform,
        cast(joined.category_id as {{ dbt.type_string() }}) as category_id,
        joined.category_name,
        cast(
            case
                when games.category_kind is not null then games.category_kind
                when joined.matched_steam_appid is not null then 'game'
                when joined.category_type = 'game' then 'game'
                when joined.category_type = 'sports' then 'sports'
                else 'unknown'
            end as {{ dbt.type_string() }}
        ) as category_kind,
        cast(joined.game_key as {{ dbt.type_string() }}) as game_key,
        cast(
            coalesce(games.steam_appid, joined.matched_steam_appid) as {{ dbt.type_bigint() }}
        ) as steam_appid,
        cast(joined.match_method as {{ dbt.type_string() }}) as match_method,
        joined.matched_name,
        coalesce(observation_stats.observation_count, 0) as observation_count,
        coalesce(observation_stats.viewer_count_sum, 0) as viewer_count_sum,
        observation_stats.first_seen_at,
        observation_stats.last_seen_at
    from joined
    left join games
        on joined.game_key = games.game_key
    left join observation_stats
        on
            joined.platform = observation_stats.platform
            and joined.category_id = observation_stats.category_id

)

select * from final
