{#-
    Every name a game is known by, normalised for matching: the seed's
    English and Korean names, the seeded platform category names (and Chzzk
    slugs), and Steam Store app names. Steam names of apps outside the seed
    carry only a steam_appid.
-#}
with

games as (

    select * from {{ ref('games') }}

),

category_map as (

    select * from {{ ref('game_category_map') }}

),

app_details as (

    select * from {{ ref('stg_steam__app_details') }}

),

seed_aliases as (

    select
        game_key,
        steam_appid,
        'seed_name_en' as alias_source,
        name_en as alias_name
    from games

    union all

    select
        game_key,
        steam_appid,
        'seed_name_ko' as alias_source,
        name_ko as alias_name
    from games

    union all

    select
        category_map.game_key,
        games.steam_appid,
        'seed_category_name' as alias_source,
        category_map.category_name as alias_name
    from category_map
    inner join games
        on category_map.game_key = games.game_key

    union all

    select
        category_map.game_key,
        games.steam_appid,
        'seed_category_slug' as alias_source,
        category_map.category_id as alias_name
    from category_map
    inner join games
        on category_map.game_key = games.game_key
    where category_map.platform = 'chzzk'

),

steam_aliases as (

    select
        games.game_key,
        app_details.steam_appid,
        'steam_app_name' as alias_source,
        app_details.app_name as alias_name
    from app_details
    left join games
        on app_details.steam_appid = games.steam_appid

),

unioned as (

    select * from seed_aliases
    union all
    select * from steam_aliases

),

normalized as (

    select
        cast(game_key as {{ dbt.type_string() }}) as game_key,
        cast(steam_appid as {{ dbt.type_bigint() }}) as steam_appid,
        cast(alias_source as {{ dbt.type_string() }}) as alias_source,
        alias_name,
        cast(
            {{ normalize_game_name('alias_name') }} as {{ dbt.type_string() }}
        ) as normalized_name
    from unioned
    where alias_name is not null

),

deduplicated as (

    select
        game_key,
        steam_appid,
        alias_source,
        normalized_name,
        min(alias_name) as alias_name
    from normalized
    where normalized_name <> ''
    group by
        game_key,
        steam_appid,
        alias_source,
        normalized_name

),

final as (

    select
        {{ surrogate_key(['alias_source', 'normalized_name', 'game_key', 'steam_appid']) }}
            as alias_id,
        alias_source,
        alias_name,
        normalized_name,
        game_key,
        steam_appid
    from deduplicated

)

select * from final
