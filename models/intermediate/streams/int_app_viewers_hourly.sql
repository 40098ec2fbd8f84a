{#-
    Stream audience of each Steam app per UTC hour, all streaming platforms
    and categories together: the sum of the hourly average viewers of the
    categories mapped to the app (seeded games and Steam apps the name
    matcher found alike). Hours without a live channel of the app have no
    row (0 viewers).
-#}

with

category_viewers_hourly as (

    select * from {{ ref('int_category_viewers_hourly') }}
    where steam_appid is not null

),

final as (

    select
        steam_appid,
        hour_at,
        sum(avg_viewers) as avg_viewers,
        sum(hours_watched) as hours_watched
    from category_viewers_hourly
    group by
        steam_appid,
        hour_at

)

select * from final
