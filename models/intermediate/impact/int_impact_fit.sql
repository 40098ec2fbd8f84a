{#-
    The joint least-squares fit of the streamer-influence model: one row per
    streamer with exposure, its slope (extra players per 1,000 viewers) from
    the normal equations of int_impact_gram, solved by
    var('impact_solver_iterations') damped Jacobi iterations
    b <- b + step x (target - gram b) / diagonal, starting at zero. The step
    (see int_impact_gram) bounds the scaled gram's largest eigenvalue, so
    the iterations converge. Fitted once per fit_id, the gram's
    (macros/impact_fit.sql).
    Method: docs block `streamer_impact_method`.
-#}
{{ config(
    materialized='incremental',
    incremental_strategy='fit_replace',
    on_schema_change='append_new_columns',
    meta={'fit_id_from': 'int_impact_gram'},
) }}
{%- set iterations = var('impact_solver_iterations') | int(40) %}


with

gram as (

    select * from {{ ref('int_impact_gram') }}

),

fit_0 as (

    select
        platform,
        channel_id,
        cast(0 as double precision) as influence
    from gram
    where is_diagonal

),

{% for k in range(1, iterations + 1) %}
    fit_{{ k }} as (

        {#- Damped Jacobi: b += step x (target - gram b) / diagonal. #}
        select
            gram.platform,
            gram.channel_id,
            sum(case when gram.is_diagonal then previous.influence else 0 end)
            + max(gram.step) * (max(gram.target) - sum(gram.gram * previous.influence))
            / max(gram.diagonal) as influence
        from gram
        inner join fit_{{ k - 1 }} as previous
            on
                gram.other_platform = previous.platform
                and gram.other_channel_id = previous.channel_id
        group by
            gram.platform,
            gram.channel_id

    ),
{% endfor %}

final as (

    select
        gram.platform,
        gram.channel_id,
        cast(fit.influence as double precision) as slope,
        gram.diagonal as sum_zz,
        gram.fit_id
    from fit_{{ iterations }} as fit
    inner join gram
        on
            fit.platform = gram.platform
            and fit.channel_id = gram.channel_id
            and gram.is_diagonal

)

select * from final
{%- if is_incremental() and fit_kept() %}
    where 1 = 0  {#- the fit of this fit_id is in the table: keep it, select nothing #}
{%- endif %}
