{#-
    The other direction: every pair of consecutive price periods of an app
    whose discount differs appears in fct_price_events. Returns the periods
    whose discount change has no event.
-#}
with

price_periods as (

    select * from {{ ref('int_steam_price_periods') }}

),

events as (

    select * from {{ ref('fct_price_events') }}

),

boundaries as (

    select
        before_period.steam_appid,
        before_period.valid_to as event_at
    from price_periods as before_period
    inner join price_periods as after_period
        on
            before_period.steam_appid = after_period.steam_appid
            and before_period.valid_to = after_period.valid_from
    where before_period.discount_percent <> after_period.discount_percent

)

select boundaries.*
from boundaries
left join events
    on
        boundaries.steam_appid = events.steam_appid
        and boundaries.event_at = events.event_at
where events.price_event_id is null
