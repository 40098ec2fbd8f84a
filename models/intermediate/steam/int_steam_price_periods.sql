{%- set window_predicates = [
    window_predicate('valid_to', 'valid_from'),
    'is_current',
] %}
{{
    config(
        materialized='incremental',
        unique_key='price_period_id',
        incremental_strategy='window_replace',
        incremental_predicates=window_predicates,
        changed_rows_only=true,
        on_schema_change='append_new_columns',
    )
}}
{#-
    Periods of constant price per Steam app, exact to the poll (the
    observation-derived counterpart of the price snapshot): a new period
    starts whenever final price, initial price, discount or free flag
    changes. valid_to is the next period's start; the open period has a
    null valid_to and is_current = true. Discounts start and end at period
    boundaries. last_observed_at and observation_count are those of closed
    periods; null while a period is current (int_steam_prices_current has
    each app's latest poll), so a price that goes on leaves its row as it is.

    Incremental: each run rebuilds an app's periods that reach into the
    window and its current period, from the prices since the first of them;
    the app's period before them is carried in, so a price that does not
    change goes on in it. The window starts var('lookback_hours') before the
    newest period start built (no later than the look-back from the newest
    price observation built). Only periods that changed are written
    (changed_rows_only).
-#}
with

prices as (

    select
        steam_appid,
        observed_at,
        currency,
        initial_price_krw,
        final_price_krw,
        discount_percent,
        is_free,
        cast(null as {{ dbt.type_timestamp() }}) as carried_last_observed_at,
        cast(null as {{ dbt.type_bigint() }}) as carried_observation_count
    from {{ ref('stg_steam__prices') }}
    where is_success

),

games as (

    select * from {{ ref('games') }}

),

{# Per app, where the rebuilt periods begin: its first period in the window, or current. #}
read_from as (

    {%- if is_incremental() %}
        select
            steam_appid,
            min(valid_from) as read_from
        from {{ this }}
        where
            valid_to >= {{ window_start('valid_from') }}
            or is_current
        group by steam_appid
    {%- else %}
        select
            steam_appid,
            observed_at as read_from
        from prices
        where 1 = 0
    {%- endif %}

),

{# Each app's last period before them, as one observation that carries its totals. #}
carried as (

    {%- if is_incremental() %}
        select
            steam_appid,
            valid_from as observed_at,
            currency,
            initial_price_krw,
            final_price_krw,
            discount_percent,
            is_free,
            last_observed_at as carried_last_observed_at,
            observation_count as carried_observation_count
        from (
            select
                built.*,
                row_number() over (
                    partition by built.steam_appid
                    order by built.valid_from desc
                ) as row_num
            from {{ this }} as built
            left join read_from
                on built.steam_appid = read_from.steam_appid
            where
                built.valid_from < {{ window_start('valid_from') }}
                and (
                    read_from.read_from is null
                    or built.valid_from < read_from.read_from
                )
        ) as before_window
        where row_num = 1
    {%- else %}
        select * from prices
        where 1 = 0
    {%- endif %}

),

in_scope as (

    select prices.*
    from prices
    left join read_from
        on prices.steam_appid = read_from.steam_appid
    {%- if is_incremental() %}
        where
            prices.observed_at >= {{ window_start('valid_from') }}
            or prices.observed_at >= read_from.read_from
    {%- endif %}

    union all

    select * from carried

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
    from in_scope

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
        max(coalesce(carried_last_observed_at, observed_at)) as last_observed_at,
        cast(sum(coalesce(carried_observation_count, 1)) as {{ dbt.type_bigint() }})
            as observation_count
    from numbered
    group by
        steam_appid,
        period_number

),

{# The open period has no next start: no end, and no last poll or count yet. #}
bounded as (

    select
        *,
        lead(valid_from) over (
            partition by steam_appid
            order by valid_from
        ) as next_valid_from
    from periods

),

final as (

    select
        {{ surrogate_key(['bounded.steam_appid', 'bounded.valid_from']) }} as price_period_id,
        bounded.steam_appid,
        games.game_key,
        bounded.currency,
        bounded.initial_price_krw,
        bounded.final_price_krw,
        bounded.discount_percent,
        bounded.discount_percent > 0 as is_discounted,
        bounded.is_free,
        bounded.valid_from,
        bounded.next_valid_from as valid_to,
        case
            when bounded.next_valid_from is not null then bounded.last_observed_at
        end as last_observed_at,
        case
            when bounded.next_valid_from is not null then bounded.observation_count
        end as observation_count,
        bounded.next_valid_from is null as is_current
    from bounded
    left join games
        on bounded.steam_appid = games.steam_appid

)

select * from final
