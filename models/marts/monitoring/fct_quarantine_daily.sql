{{ config(dist='platform', sort=['quarantine_date']) if target.type == 'redshift' }}
{#-
    What the loaders could not load: rejected pages and items (quarantine
    tables of the four platforms) per platform, UTC day and endpoint, with
    the polls they came from. A day without rejects has no row.
-#}
with

chzzk_quarantine as (

    select * from {{ ref('stg_chzzk__quarantine') }}

),

soop_quarantine as (

    select * from {{ ref('stg_soop__quarantine') }}

),

steam_quarantine as (

    select * from {{ ref('stg_steam__quarantine') }}

),

twitch_quarantine as (

    select * from {{ ref('stg_twitch__quarantine') }}

),

unioned as (

    {%- set relations = [
        'chzzk_quarantine', 'soop_quarantine', 'steam_quarantine', 'twitch_quarantine',
    ] %}
    {%- for relation in relations %}
        select
            platform,
            endpoint,
            reason,
            poll_id,
            quarantined_at
        from {{ relation }}
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}

),

daily as (

    select
        platform,
        cast(quarantined_at as date) as quarantine_date,
        coalesce(endpoint, '') as endpoint,
        count(*) as quarantined_count,
        count(distinct poll_id) as poll_count,
        count(distinct reason) as reason_count,
        substr(max(reason), 1, 80) as sample_reason,
        min(quarantined_at) as first_quarantined_at,
        max(quarantined_at) as last_quarantined_at
    from unioned
    group by
        platform,
        cast(quarantined_at as date),
        coalesce(endpoint, '')

),

final as (

    select
        cast(
            {{ surrogate_key(['platform', 'quarantine_date', 'endpoint']) }}
            as {{ dbt.type_string() }}
        ) as quarantine_day_id,
        cast(platform as {{ dbt.type_string() }}) as platform,
        quarantine_date,
        cast(endpoint as {{ dbt.type_string() }}) as endpoint,
        cast(quarantined_count as {{ dbt.type_bigint() }}) as quarantined_count,
        cast(poll_count as {{ dbt.type_bigint() }}) as poll_count,
        cast(reason_count as {{ dbt.type_bigint() }}) as reason_count,
        cast(sample_reason as {{ dbt.type_string() }}) as sample_reason,
        cast(first_quarantined_at as {{ dbt.type_timestamp() }}) as first_quarantined_at,
        cast(last_quarantined_at as {{ dbt.type_timestamp() }}) as last_quarantined_at
    from daily

)

select * from final
