{#-
    One row per canonical game (and non-game category) of the games seed,
    with what Steam says about it today: Store genres, the latest price and
    discount, the latest review summary.
-#}
with

games as (

    select * from {{ ref('games') }}

),

app_details as (

    select * from {{ ref('stg_steam__app_details') }}

),

prices as (

    select * from {{ ref('int_steam_prices_current') }}

),

reviews as (

    select * from {{ ref('stg_steam__reviews') }}

),

latest_reviews as (

    select
        *,
        row_number() over (
            partition by steam_appid
            order by observed_at desc
        ) as row_num
    from reviews

),

final as (

    select
        cast(games.game_key as {{ dbt.type_string() }}) as game_key,
        cast(games.steam_appid as {{ dbt.type_bigint() }}) as steam_appid,
        cast(games.name_en as {{ dbt.type_string() }}) as name_en,
        cast(games.name_ko as {{ dbt.type_string() }}) as name_ko,
        cast(games.category_kind as {{ dbt.type_string() }}) as category_kind,
        cast(games.genre as {{ dbt.type_string() }}) as genre,
        cast(app_details.genres as {{ dbt.type_string() }}) as steam_genres,
        cast(app_details.app_name as {{ dbt.type_string() }}) as steam_app_name,
        cast(
            coalesce(prices.is_free, app_details.is_free) as {{ dbt.type_boolean() }}
        ) as is_free,
        cast(prices.currency as {{ dbt.type_string() }}) as currency,
        cast(prices.initial_price_krw as double precision) as initial_price_krw,
        cast(prices.final_price_krw as double precision) as final_price_krw,
        cast(prices.discount_percent as {{ dbt.type_int() }}) as discount_percent,
        cast(prices.is_discounted as {{ dbt.type_boolean() }}) as is_discounted,
        cast(prices.price_observed_at as {{ dbt.type_timestamp() }}) as price_observed_at,
        cast(latest_reviews.review_score as {{ dbt.type_int() }}) as review_score,
        cast(latest_reviews.review_score_desc as {{ dbt.type_string() }})
            as review_score_desc,
        cast(latest_reviews.positive_ratio as double precision) as review_positive_ratio,
        cast(latest_reviews.total_reviews as {{ dbt.type_bigint() }}) as review_count,
        cast(latest_reviews.observed_at as {{ dbt.type_timestamp() }}) as review_observed_at
    from games
    left join app_details
        on games.steam_appid = app_details.steam_appid
    left join prices
        on games.steam_appid = prices.steam_appid
    left join latest_reviews
        on
            games.steam_appid = latest_reviews.steam_appid
            and latest_reviews.row_num = 1

)

select * from final
