{#-
    Rows to paste into seeds/game_category_map.csv for unmapped categories
    whose name matched a seeded game, largest audience first. Categories
    matched only to a Steam app need a new row in seeds/games.csv first
    (their steam_appid is listed for that). Compile with
    `dbt compile -s propose_game_category_map_rows` and run the SQL.
-#}
with

unmapped as (

    select * from {{ ref('int_categories_unmapped') }}

),

final as (

    select
        platform,
        category_id,
        category_name,
        proposed_game_key as game_key,
        proposed_steam_appid as steam_appid,
        proposed_name,
        viewer_share,
        {{ dbt.concat([
            'platform', "','", 'category_id', "','",
            'category_name', "','", "coalesce(proposed_game_key, '')",
        ]) }} as csv_row
    from unmapped
    where match_method = 'name_match'

)

select * from final
order by viewer_share desc
