{#-
    Every price event sits on a boundary of two consecutive price periods:
    the period starting at event_at has the discount after the event, and
    the one before it ended (last poll) at previous_observed_at with the
    discount before. Returns events without such a pair of periods.
-#}
with

events as (

    select * from {{ ref('fct_price_events') }}

),

price_periods as (

    select * from {{ ref('int_steam_price_periods') }}

),

matched as (

    select events.price_event_id
    from events
    inner join price_periods as after_period
        on
            events.steam_appid = after_period.steam_appid
            and events.event_at = after_period.valid_from
            and events.discount_percent_after = after_period.discount_percent
            and events.price_after_krw = after_period.final_price_krw
    inner join price_periods as before_period
        on
            events.steam_appid = before_period.steam_appid
            and events.event_at = before_period.valid_to
            and events.previous_observed_at = before_period.last_observed_at
            and events.discount_percent_before = before_period.discount_percent
            and events.price_before_krw = before_period.final_price_krw

)

select events.*
from events
where events.price_event_id not in (select matched.price_event_id from matched)
