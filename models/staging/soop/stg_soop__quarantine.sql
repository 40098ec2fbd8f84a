{#-
    One row per page or item the soop loader rejected (quarantine table),
    with the reason; empty while the loader has never quarantined anything.
-#}
{{ stg_quarantine('soop') }}
