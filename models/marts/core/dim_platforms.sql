{#-
    The platforms the product observes, plus the 'all' row that the game
    facts use for cross-platform totals of the streaming platforms.
-#}
with

platforms as (

    select
        'chzzk' as platform,
        'CHZZK' as platform_name,
        '치지직' as platform_name_ko,
        'streaming' as platform_kind,
        'KR' as region,
        'openapi.chzzk.naver.com /open/v1/lives' as poll_source,
        1 as sort_order

    union all

    select
        'soop' as platform,
        'SOOP' as platform_name,
        '숲 (구 아프리카TV)' as platform_name_ko,
        'streaming' as platform_kind,
        'KR' as region,
        'openapi.sooplive.co.kr /broad/list' as poll_source,
        2 as sort_order

    union all

    select
        'twitch' as platform,
        'Twitch' as platform_name,
        '트위치' as platform_name_ko,
        'streaming' as platform_kind,
        'global' as region,
        'api.twitch.tv /helix/streams' as poll_source,
        3 as sort_order

    union all

    select
        'steam' as platform,
        'Steam' as platform_name,
        '스팀' as platform_name_ko,
        'store' as platform_kind,
        'global (KRW prices)' as region,
        'api.steampowered.com ISteamUserStats/GetNumberOfCurrentPlayers' as poll_source,
        4 as sort_order

    union all

    select
        'all' as platform,
        'All streaming platforms' as platform_name,
        '전체 스트리밍 플랫폼' as platform_name_ko,
        'aggregate' as platform_kind,
        'KR + global' as region,
        'sum of chzzk, soop and twitch' as poll_source,
        0 as sort_order

),

final as (

    select
        cast(platform as {{ dbt.type_string() }}) as platform,
        cast(platform_name as {{ dbt.type_string() }}) as platform_name,
        cast(platform_name_ko as {{ dbt.type_string() }}) as platform_name_ko,
        cast(platform_kind as {{ dbt.type_string() }}) as platform_kind,
        cast(region as {{ dbt.type_string() }}) as region,
        cast(poll_source as {{ dbt.type_string() }}) as poll_source,
        cast(sort_order as {{ dbt.type_int() }}) as sort_order
    from platforms

)

select * from final
