{#-
    The one definition of hours watched and airtime: every observation of a
    live channel stands for var('poll_interval_minutes') of airtime, so
    hours watched = viewer-observations x poll interval / 60 (docs
    `col_hours_watched`). `viewer_observations` is an SQL expression: a sum
    of viewer_count over observations, or average viewers x observations.
-#}
{% macro hours_watched(viewer_observations) -%}
    {{ viewer_observations }} * {{ var('poll_interval_minutes') }} / 60.0
{%- endmacro %}

{#- Airtime in hours of `observations` observations (one poll interval each). -#}
{% macro airtime_hours(observations) -%}
    {{ observations }} * {{ var('poll_interval_minutes') }} / 60.0
{%- endmacro %}
