{#-
    One row per Steam app as of this run: its latest successful KRW price.
    Input of the Steam price snapshot.
-#}
with

prices as (

    select * from {{ ref('stg_steam__prices') }}

),

games as (

    select * from {{ ref('games') }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by steam_appid
            order by observed_at desc
        ) as row_num
    from prices
    where is_success

),

final as (

    select
        ranked.steam_appid,
        games.game_key,
        ranked.currency,
        ranked.is_free,
        ranked.initial_price_krw,
        ranked.final_price_krw,
        ranked.discount_percent,
        ranked.is_discounted,
        ranked.observed_at as price_observed_at
    from ranked
    left join games
        on ranked.steam_appid = games.steam_appid
    where ranked.row_num = 1

)

select * from final
