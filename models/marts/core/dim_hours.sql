{#-
    One row per UTC hour from the first to the last observed hour (stream
    observations or Steam players), with its calendar in UTC and in KST
    (UTC+9, no daylight saving), the audience's clock. Hours are generated
    from a 5-digit number table (up to 100,000 hours, about 11 years), which
    every warehouse can build without generate_series. Also the MetricFlow
    time spine of the semantic models.
-#}
with

observed_hours as (

    select hour_at
    from {{ ref('int_category_viewers_hourly') }}

    union all

    select hour_at
    from {{ ref('int_steam_players_hourly') }}

),

bounds as (

    select
        min(hour_at) as first_hour_at,
        max(hour_at) as last_hour_at
    from observed_hours

),

digits as (

    {%- for digit in range(10) %}
        select {{ digit }} as digit
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}

),

numbers as (

    select
        ones.digit
        + 10 * tens.digit
        + 100 * hundreds.digit
        + 1000 * thousands.digit
        + 10000 * ten_thousands.digit as hour_offset
    from digits as ones
    cross join digits as tens
    cross join digits as hundreds
    cross join digits as thousands
    cross join digits as ten_thousands

),

hours as (

    select
        {{ dbt.dateadd('hour', 'numbers.hour_offset', 'bounds.first_hour_at') }} as hour_at
    from bounds
    inner join numbers
        on
            numbers.hour_offset
            <= {{ dbt.datediff('bounds.first_hour_at', 'bounds.last_hour_at', 'hour') }}

),

with_kst as (

    select
        cast(hour_at as {{ dbt.type_timestamp() }}) as hour_at,
        cast({{ dbt.dateadd('hour', 9, 'hour_at') }} as {{ dbt.type_timestamp() }})
            as hour_at_kst
    from hours

),

with_dates as (

    select
        hour_at,
        hour_at_kst,
        cast(hour_at as date) as hour_date,
        cast(hour_at_kst as date) as hour_date_kst
    from with_kst

),

final as (

    select
        hour_at,
        hour_date,
        cast(
            {{ dbt.datediff('cast(hour_date as ' ~ dbt.type_timestamp() ~ ')', 'hour_at', 'hour') }}
            as {{ dbt.type_int() }}
        ) as hour_of_day_utc,
        hour_at_kst,
        hour_date_kst,
        cast(
            {{ dbt.datediff(
                'cast(hour_date_kst as ' ~ dbt.type_timestamp() ~ ')', 'hour_at_kst', 'hour'
            ) }}
            as {{ dbt.type_int() }}
        ) as hour_of_day_kst,
        {#- ISO weekday (1 = Monday): 2000-01-03 was a Monday. #}
        cast(
            mod({{ dbt.datediff("cast('2000-01-03' as date)", 'hour_date_kst', 'day') }}, 7) + 1
            as {{ dbt.type_int() }}
        ) as weekday_kst,
        mod({{ dbt.datediff("cast('2000-01-03' as date)", 'hour_date_kst', 'day') }}, 7) >= 5
            as is_weekend_kst
    from with_dates

)

select * from final
