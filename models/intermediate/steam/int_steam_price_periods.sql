{#-
    Periods of constant price per Steam app, exact to the poll (the
    observation-derived counterpart of the price snapshot): a new period
    starts whenever final price, initial price, discount or free flag
    changes. valid_to is the next period's start; the open period has a
    null valid_to and is_current = true. Discounts start and end at period
    boundaries.
-#}
with

prices as (

    select * from {{ ref('stg_steam__prices') }}
    where is_success

),

games as (

    select * from {{ ref('games') }}

),

keyed as (

    select
        *,
        {{ dbt.concat([
            "coalesce(cast(initial_price_krw as " ~ dbt.type_string() ~ "), '')",
            "'|'",
            "coalesce(cast(final_price_krw as " ~ dbt.type_string() ~ "), '')",
            "'|'",
            "cast(discount_percent as " ~ dbt.type_string() ~ ")",
            "'|'",
            "case when is_free then 'free' else 'paid' end",
        ]) }} as price_key
    from prices

),

with_previous as (

    select
        *,
        lag(price_key) over (
            partition by steam_appid
            order by observed_at
        ) as previous_price_key
    from keyed

),

numbered as (

    select
        *,
        sum(
            case
                when previous_price_key is null then 1
                when previous_price_key <> price_key then 1
                else 0
            end
        ) over (
            partition by steam_appid
            order by observed_at
            rows between unbounded preceding and current row
        ) as period_number
    from with_previous

),

periods as (

    select
        steam_appid,
        period_number,
        max(currency) as currency,
        max(initial_price_krw) as initial_price_krw,
        max(final_price_krw) as final_price_krw,
        max(discount_percent) as discount_percent,
        max(case when is_free then 1 else 0 end) = 1 as is_free,
        min(observed_at) as valid_from,
        max(observed_at) as last_observed_at,
        count(*) as observation_count
    from numbered
    group by
        steam_appid,
        period_number

),

final as (

    select
        {{ surrogate_key(['periods.steam_appid', 'periods.valid_from']) }} as price_period_id,
        periods.steam_appid,
        games.game_key,
        periods.currency,
        periods.initial_price_krw,
        periods.final_price_krw,
        periods.discount_percent,
        periods.discount_percent > 0 as is_discounted,
        periods.is_free,
        periods.valid_from,
        lead(periods.valid_from) over (
            partition by periods.steam_appid
            order by periods.valid_from
        ) as valid_to,
        periods.last_observed_at,
        periods.observation_count,
        lead(periods.valid_from) over (
            partition by periods.steam_appid
            order by periods.valid_from
        ) is null as is_current
    from periods
    left join games
        on periods.steam_appid = games.steam_appid

)

select * from final
