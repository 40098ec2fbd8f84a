{#-
    One row per game update: a patch-notes item of the Steam news feed, with
    the canonical game. The impact estimator reads these as observed update
    events (players ramp up after an update).
-#}
with

news as (

    select * from {{ ref('stg_steam__news') }}

),

games as (

    select * from {{ ref('games') }}

),

final as (

    select
        news.news_id as update_id,
        news.steam_appid,
        games.game_key,
        news.published_at as updated_at,
        news.title
    from news
    left join games
        on news.steam_appid = games.steam_appid
    where news.is_patch_notes

)

select * from final
