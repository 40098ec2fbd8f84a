{#
    Ranges [lower_bound_column, upper_bound_column) do not overlap within each
    partition, and each range is non-empty (lower < upper). With
    `gaps: not_allowed` consecutive ranges must also touch exactly. With
    `open_ended_last: true` the last range of a partition may have a null
    upper bound (still open). Used on SCD2-style tables (valid_from /
    valid_to per key).
#}
{% test mutually_exclusive_ranges(
    model,
    lower_bound_column,
    upper_bound_column,
    partition_by=none,
    gaps='allowed',
    open_ended_last=false
) %}
{%- set partition_clause = 'partition by ' ~ partition_by if partition_by else '' %}
{%- set open_upper_ok = 'true' if open_ended_last else 'false' %}
{%- set gaps_ok = 'false' if gaps == 'not_allowed' else 'true' %}

with

ranges as (

    select
        *,
        {{ lower_bound_column }} as lower_bound,
        {{ upper_bound_column }} as upper_bound,
        lead({{ lower_bound_column }}) over (
            {{ partition_clause }}
            order by {{ lower_bound_column }}, {{ upper_bound_column }}
        ) as next_lower_bound
    from {{ model }}

),

failures as (

    select
        *,
        case
            when lower_bound is null
                then 'null lower bound'
            when upper_bound is null and next_lower_bound is null and {{ open_upper_ok }}
                then null
            when upper_bound is null
                then 'null upper bound'
            when lower_bound >= upper_bound
                then 'empty or reversed range'
            when next_lower_bound < upper_bound
                then 'overlaps the next range'
            when next_lower_bound > upper_bound and not {{ gaps_ok }}
                then 'gap before the next range'
        end as failure_reason
    from ranges

)

select *
from failures
where failure_reason is not null

{% endtest %}
