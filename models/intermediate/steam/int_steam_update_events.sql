{#-
    One row per game update: a patch-notes item of the Steam news feed, keyed
    by Steam app like the impact events: the observed update events the
    streamer-impact estimator is to use (players ramp up after an update).
-#}
with

news as (

    select * from {{ ref('stg_steam__news') }}

),

final as (

    select
        news.news_id as update_id,
        news.steam_appid,
        news.published_at as updated_at,
        news.title
    from news
    where news.is_patch_notes

)

select * from final
