{#-
    Fixed-effects residuals by alternating projections (the Frisch-Waugh
    sweep of the streamer-influence estimator, docs `streamer_impact_method`).

    Emits CTEs `<name>_0` .. `<name>_<n>` over the CTE `source`: `<name>_0`
    holds `value` as `<name>_resid`; each later CTE subtracts the mean of
    the residual within one fixed-effect group, alternating `cell` and
    `slot` partitions, `passes` times each, then a last `cell` pass, so the
    residuals sum to zero within every cell (the estimator's clusters nest
    in cells). Returns the name of the last CTE. Call inside a `with` list:
    `{{ fe_sweep(...) }}` renders the CTEs followed by a trailing comma.
-#}
{% macro fe_sweep(name, source, value, columns, cell, slot, passes) -%}
    {%- set steps = [] -%}
    {%- for _ in range(passes) -%}
        {%- do steps.append(cell) -%}
        {%- do steps.append(slot) -%}
    {%- endfor -%}
    {%- do steps.append(cell) -%}
    {{ name }}_0 as (

        select
            {{ columns | join(', ') }},
            {{ value }} as {{ name }}_resid
        from {{ source }}

    ),
    {% for partition in steps %}
    {{ name }}_{{ loop.index }} as (

        select
            {{ columns | join(', ') }},
            {{ name }}_resid
            - avg({{ name }}_resid) over (partition by {{ partition | join(', ') }})
            as {{ name }}_resid
        from {{ name }}_{{ loop.index0 }}

    ),
    {% endfor %}
{%- endmacro %}
