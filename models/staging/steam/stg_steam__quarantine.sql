{#-
    One row per page or item the steam loader rejected (quarantine table),
    with the reason; empty while the loader has never quarantined anything.
-#}
{{ stg_quarantine('steam') }}
