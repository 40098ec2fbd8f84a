{#-
    One row per Steam news item (gid): announcements, patch notes and external
    press of an app (ISteamNews/GetNewsForApp/v2). The latest load of an item
    wins; patch notes carry the `patchnotes` tag.
-#}
with

source as (

    select * from {{ source('steam', 'news') }}

),

deduplicated as (

    select
        *,
        row_number() over (
            partition by gid
            order by observed_at desc, _dlt_load_id desc, _dlt_id desc
        ) as row_num
    from source

),

final as (

    select
        cast(gid as {{ dbt.type_string() }}) as news_id,
        cast(appid as {{ dbt.type_bigint() }}) as steam_appid,
        {{ to_utc('published_at') }} as published_at,
        {{ to_utc('observed_at') }} as observed_at,
        poll_id,
        title,
        url,
        coalesce(cast(is_external_url as boolean), false) as is_external_url,
        author,
        feedlabel as feed_label,
        feedname as feed_name,
        cast(feed_type as {{ dbt.type_int() }}) as feed_type,
        tags,
        coalesce(
            ',' || tags || ',' like '%,patchnotes,%', false
        ) as is_patch_notes
    from deduplicated
    where row_num = 1

)

select * from final
