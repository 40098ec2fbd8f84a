{#-
    Incremental silver and gold (README "Performance", docs
    `incremental_windows`). Every model whose input grows with time re-reads
    only a window at the end of the history: var('lookback_hours') before
    the newest row it already holds, so polls that arrive late (up to the
    look-back) are picked up, and rows re-read replace themselves.
-#}

{#-
    The start of a model's window, as a scalar subquery on {{ this }}: the
    newest `column` already built less var('lookback_hours') and
    `extra_minutes`, truncated to `trunc` ('hour') when given; 1900-01-01
    on an empty table (a first build on an empty window re-reads all). The
    delete of `window_replace` evaluates it before it deletes anything, so
    the select and the delete agree on it. In incremental_predicates, which
    dbt renders when it parses the model, pass relation=window_target():
    window_replace puts the model's table in its place.
-#}
{% macro window_start(column, extra_minutes=0, trunc=none, relation=none) -%}
    {%- set minutes = (var('lookback_hours') | int(3)) * 60 + (extra_minutes | int) -%}
    {%- set expr = dbt.dateadd('minute', -1 * minutes, 'max(' ~ column ~ ')') -%}
    {%- if trunc -%}
        {%- set expr = dbt.date_trunc(trunc, expr) -%}
    {%- endif -%}
    (
        select coalesce({{ expr }}, cast('1900-01-01' as {{ dbt.type_timestamp() }}))
        from {{ relation or this }}
    )
{%- endmacro %}

{#- Stands for the target table in incremental_predicates (see window_start). -#}
{% macro window_target() -%}
    {%- do return('__window_target__') -%}
{%- endmacro %}

{#-
    `expr >= window_start(column, ...)` for incremental_predicates (on the
    target table, see window_start).
-#}
{% macro window_predicate(expr, column, extra_minutes=0, trunc=none) -%}
    {%- do return(
        expr ~ ' >= ' ~ window_start(column, extra_minutes, trunc, relation=window_target())
    ) -%}
{%- endmacro %}

{#- `column >= day_window_start(column, ...)` for incremental_predicates. -#}
{% macro day_window_predicate(column, hours_column=none) -%}
    {%- do return(
        column ~ ' >= '
        ~ day_window_start(column, relation=window_target(), hours_column=hours_column)
    ) -%}
{%- endmacro %}

{#-
    The first day a day-grain model rewrites, as a scalar subquery on
    {{ this }}: the newest day it holds, and the day before it too when the
    look-back reaches back into it. With `hours_column` (the hours of a row's
    day that were built), the day before is re-written only if the newest
    day had at most var('lookback_hours') hours built; without it, always.
-#}
{% macro day_window_start(column, relation=none, hours_column=none) -%}
    {%- set rel = relation or this -%}
    {%- set newest = 'max(' ~ column ~ ')' -%}
    {%- set first_day = 'cast(' ~ dbt.dateadd('day', -1, newest) ~ ' as date)' -%}
    {%- set newest_day_only = '' -%}
    {%- if hours_column -%}
        {%- set first_day = 'case when max(' ~ hours_column ~ ') > '
            ~ (var('lookback_hours') | int(3)) ~ ' then ' ~ newest ~ ' else ' ~ first_day ~ ' end' -%}
        {%- set newest_day_only = 'where ' ~ column ~ ' = (select ' ~ newest
            ~ ' from ' ~ rel ~ ')' -%}
    {%- endif -%}
    (
        select coalesce({{ first_day }}, cast('1900-01-01' as date))
        from {{ rel }} {{ newest_day_only }}
    )
{%- endmacro %}

{#-
    The minutes a session can bridge: two observations of a channel further
    apart than this always belong to different sessions.
-#}
{% macro session_reach_minutes() -%}
    {%- do return(
        (var('session_gap_minutes') | int(15)) + (var('poll_interval_minutes') | int(10))
    ) -%}
{%- endmacro %}

{#-
    Incremental strategy `window_replace`: delete every row of the target
    that matches one of the model's incremental_predicates (the rows of its
    window, evaluated on the table as it was) or whose unique_key the new
    rows carry, then insert the new rows. Unlike delete+insert it also
    removes rows whose key disappeared in the window (a session merged into
    an earlier one by a late poll), and works without a key for aggregates
    that are replaced by whole hours or days.

    With config `changed_rows_only=true` (and a unique_key) the model
    selects its whole window as before, but only what changed is written:
    rows of the window whose key the new rows lack are deleted, rows the
    target lacks exactly (new or changed; EXCEPT compares nulls as equal)
    replace their key's row, and rows that came out the same stay as they
    are (periods that go on unchanged are not re-written every run).
-#}
{% macro get_incremental_window_replace_sql(arg_dict) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set source = arg_dict['temp_relation'] -%}
    {%- set unique_key = arg_dict['unique_key'] -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    {%- set window = [] -%}
    {%- for predicate in arg_dict['incremental_predicates'] or [] -%}
        {%- do window.append(predicate | replace(window_target(), target | string)) -%}
    {%- endfor -%}
    {%- set changes_only = config.get('changed_rows_only', false) -%}
    {%- set new_rows -%}
        select {{ columns }} from {{ source }}
        {%- if changes_only %}
        except
        select {{ columns }} from {{ target }}
        {%- endif %}
    {%- endset -%}
    {%- set conditions = [] -%}
    {%- if changes_only -%}
        {%- if not unique_key or not window -%}
            {{ exceptions.raise_compiler_error(
                'changed_rows_only needs a unique_key and incremental_predicates: ' ~ target
            ) }}
        {%- endif -%}
        {%- do conditions.append(
            '((' ~ window | join(' or ') ~ ') and ' ~ unique_key ~ ' not in (select '
            ~ unique_key ~ ' from ' ~ source ~ '))'
        ) -%}
        {%- do conditions.append(
            unique_key ~ ' in (select ' ~ unique_key ~ ' from (' ~ new_rows ~ ') as changed)'
        ) -%}
    {%- else -%}
        {%- do conditions.extend(window) -%}
        {%- if unique_key -%}
            {%- do conditions.append(
                unique_key ~ ' in (select ' ~ unique_key ~ ' from ' ~ source ~ ')'
            ) -%}
        {%- endif -%}
    {%- endif -%}
    {%- if not conditions -%}
        {{ exceptions.raise_compiler_error(
            'window_replace needs incremental_predicates or a unique_key: ' ~ target
        ) }}
    {%- endif -%}
    {%- do log_written_rows(target, new_rows) %}
    delete from {{ target }}
    where
        {{ conditions | join('\n        or ') }};

    insert into {{ target }} ({{ columns }})
    {{ new_rows }}
{%- endmacro %}

{#-
    The CTEs `observations` and `latest_polls` of the session-grain models
    (sessions, spells). A full build reads every sessionized observation.
    An incremental build reads every observation of the sessions in the
    window: those with an observation at most var('lookback_hours') plus
    one session reach before the newest `last_column` built, and those
    whose row in {{ this }} is `live_flag` (ongoing, current), so that they
    close when their platform polls on. latest_polls is each platform's
    newest poll: in the window, or else the newest already built.
-#}
{% macro sessions_in_window_ctes(last_column, live_flag) -%}
    {%- set sessionized = ref('int_stream_observations_sessionized') -%}
    {%- if is_incremental() %}
sessions_in_window as (

    select session_id
    from {{ sessionized }}
    where observed_at >= {{ window_start(last_column, session_reach_minutes()) }}

    union

    select session_id
    from {{ this }}
    where {{ live_flag }}

),

window_observations as (

    select * from {{ sessionized }}
    where session_started_at >= (
        select min(session_started_at)
        from {{ sessionized }}
        where session_id in (select session_id from sessions_in_window)
    )

),

observations as (

    select * from window_observations
    where session_id in (select session_id from sessions_in_window)

),

latest_polls as (

    select
        platform,
        max(latest_observed_at) as latest_observed_at
    from (
        select
            platform,
            max(observed_at) as latest_observed_at
        from window_observations
        group by platform
        union all
        select
            platform,
            max({{ last_column }}) as latest_observed_at
        from {{ this }}
        group by platform
    ) as candidates
    group by platform

),
    {%- else %}
observations as (

    select * from {{ sessionized }}

),

latest_polls as (

    select
        platform,
        max(observed_at) as latest_observed_at
    from observations
    group by platform

),
    {%- endif %}
{%- endmacro %}

{#-
    bench/dbt_bench.py counts the rows each incremental model writes
    (--vars log_window_rows): logs `WINDOW_ROWS <table> <rows>` for the
    select `new_rows`.
-#}
{% macro log_written_rows(target, new_rows) -%}
    {%- if execute and var('log_window_rows', false) -%}
        {%- set counted = run_query('select count(*) from (' ~ new_rows ~ ') as written') -%}
        {%- do log(
            'WINDOW_ROWS ' ~ target.identifier ~ ' ' ~ counted.columns[0].values()[0], info=True
        ) -%}
    {%- endif -%}
{%- endmacro %}
