{#-
    The name matcher: every platform category of int_platform_categories
    with the game or Steam app its name proposes. Categories without a seed
    mapping are matched on the normalised category name (or Chzzk slug)
    against the alias list, then, in a second pass, against the names of
    the categories matched in the first pass. Seeded categories and
    categories without a match carry null matched_* columns.
-#}
with

categories as (

    select * from {{ ref('int_platform_categories') }}

),

aliases as (

    select * from {{ ref('int_game_name_aliases') }}

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

final as (

    select
        categories.platform,
        categories.category_id,
        categories.category_name,
        categories.category_type,
        categories.seed_game_key,
        all_matches.game_key as matched_game_key,
        all_matches.steam_appid as matched_steam_appid,
        all_matches.alias_name as matched_name,
        all_matches.category_id is not null as is_name_matched,
        categories.observation_count,
        categories.viewer_count_sum,
        categories.first_seen_at,
        categories.last_seen_at
    from categories
    left join all_matches
        on
            categories.platform = all_matches.platform
            and categories.category_id = all_matches.category_id

)

select * from final
