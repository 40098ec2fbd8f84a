{#-
    One row per (platform, channel_id) as of this run: the latest name, the
    follower count where the platform gives one (Chzzk), and the game and
    category of the channel's latest observation (its last known game, also
    while offline; is_live tells whether it was live at the platform's
    latest poll). Input of the streamer-game and channel-profile snapshots.
-#}
with

observations as (

    select * from {{ ref('int_stream_observations_unioned') }}

),

chzzk_channels as (

    select * from {{ ref('stg_chzzk__channels') }}

),

latest_polls as (

    select
        platform,
        max(observed_at) as latest_observed_at
    from observations
    group by platform

),

ranked as (

    select
        *,
        row_number() over (
            partition by platform, channel_id
            order by observed_at desc
        ) as row_num,
        min(observed_at) over (
            partition by platform, channel_id
        ) as first_seen_at,
        count(*) over (
            partition by platform, channel_id
        ) as observation_count
    from observations

),

latest as (

    select * from ranked
    where row_num = 1

),

final as (

    select
        latest.platform,
        latest.channel_id,
        case
            when chzzk_channels.observed_at > latest.observed_at
                then chzzk_channels.channel_name
            else latest.channel_name
        end as channel_name,
        chzzk_channels.follower_count,
        latest.game_key,
        latest.category_id,
        latest.category_name,
        latest.category_kind,
        latest.viewer_count as last_viewer_count,
        latest.first_seen_at,
        latest.observed_at as last_seen_at,
        latest.observation_count,
        latest.observed_at = latest_polls.latest_observed_at as is_live
    from latest
    inner join latest_polls
        on latest.platform = latest_polls.platform
    left join chzzk_channels
        on
            latest.platform = chzzk_channels.platform
            and latest.channel_id = chzzk_channels.channel_id

)

select * from final
