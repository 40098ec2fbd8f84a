{#-
    Consecutive spells of one session follow each other without a silence
    longer than var('session_gap_minutes'), and never start before the
    previous one ends.
-#}
with

spells as (

    select * from {{ ref('int_streamer_game_spells') }}

),

with_previous as (

    select
        session_id,
        spell_id,
        valid_from,
        lag(valid_to) over (
            partition by session_id
            order by valid_from
        ) as previous_valid_to
    from spells

),

final as (

    select *
    from with_previous
    where
        previous_valid_to is not null
        and (
            valid_from < previous_valid_to
            or {{ seconds_between('previous_valid_to', 'valid_from') }}
            > {{ var('session_gap_minutes') * 60 }}
        )

)

select * from final
