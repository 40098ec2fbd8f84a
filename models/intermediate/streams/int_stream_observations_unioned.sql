{{
    config(
        materialized='incremental',
        unique_key='observation_id',
        incremental_strategy='window_replace',
        incremental_predicates=[window_predicate('observed_at', 'observed_at')],
        on_schema_change='append_new_columns',
    )
}}
{#-
    All platforms' live observations in one vocabulary, with game identity
    attached. Incremental: each run re-reads the last var('lookback_hours')
    before the newest row already loaded, so late rows are picked up and
    re-read rows replace themselves (window_replace on observation_id).
    Game identity is attached at load time: after changing the seed map run
    `dbt build --full-refresh -s int_stream_observations_unioned+`.
-#}
{%- set lookback_filter -%}
    {%- if is_incremental() %}
        where observed_at >= (
            {# an empty table (a first build on an empty window) re-reads all #}
            select coalesce(
                {{ dbt.dateadd('hour', -1 * var('lookback_hours'), 'max(observed_at)') }},
                cast('1900-01-01' as {{ dbt.type_timestamp() }})
            )
            from {{ this }}
        )
    {%- endif %}
{%- endset %}

with

chzzk_lives as (

    select * from {{ ref('stg_chzzk__lives') }}
    {{ lookback_filter }}

),

soop_broads as (

    select * from {{ ref('stg_soop__broads') }}
    {{ lookback_filter }}

),

twitch_streams as (

    select * from {{ ref('stg_twitch__streams') }}
    {{ lookback_filter }}

),

categories as (

    select * from {{ ref('int_platform_categories_mapped') }}

),

unioned as (

    {%- for relation in ['chzzk_lives', 'soop_broads', 'twitch_streams'] %}
        select
            platform,
            channel_id,
            channel_name,
            stream_id,
            observed_at,
            poll_id,
            viewer_count,
            category_id,
            category_name,
            category_type,
            stream_started_at,
            title
        from {{ relation }}
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}

),

final as (

    select
        {{ surrogate_key(['unioned.platform', 'unioned.channel_id', 'unioned.observed_at']) }}
            as observation_id,
        unioned.platform,
        unioned.channel_id,
        unioned.channel_name,
        unioned.stream_id,
        unioned.observed_at,
        {{ dbt.date_trunc('hour', 'unioned.observed_at') }} as observed_hour,
        unioned.poll_id,
        unioned.viewer_count,
        unioned.category_id,
        coalesce(unioned.category_name, categories.category_name) as category_name,
        unioned.category_type,
        cast(
            case
                when unioned.category_id is null then 'uncategorized'
                else coalesce(categories.category_kind, 'unknown')
            end as {{ dbt.type_string() }}
        ) as category_kind,
        categories.game_key,
        categories.steam_appid,
        categories.match_method,
        unioned.stream_started_at,
        unioned.title
    from unioned
    left join categories
        on
            unioned.platform = categories.platform
            and unioned.category_id = categories.category_id

)

select * from final
