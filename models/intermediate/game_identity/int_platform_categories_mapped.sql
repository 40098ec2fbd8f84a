{#-
    One row per (platform, category_id) ever seen, with its game identity:
    the analyst's seed map first ('seed'), else a unique match of the
    normalised category name (or Chzzk slug) against the alias list
    ('name_match', int_platform_category_name_matches), else nothing.
    Non-game categories are labelled by category_kind, not dropped.
-#}
with

categories as (

    select * from {{ ref('int_platform_category_name_matches') }}

),

games as (

    select * from {{ ref('games') }}

),

joined as (

    select
        platform,
        category_id,
        category_name,
        category_type,
        coalesce(seed_game_key, matched_game_key) as game_key,
        matched_steam_appid,
        matched_name,
        case
            when seed_game_key is not null then 'seed'
            when is_name_matched then 'name_match'
        end as match_method,
        observation_count,
        viewer_count_sum,
        first_seen_at,
        last_seen_at
    from categories

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
        joined.observation_count,
        joined.viewer_count_sum,
        joined.first_seen_at,
        joined.last_seen_at
    from joined
    left join games
        on joined.game_key = games.game_key

)

select * from final
