{#
    Every non-null value of the column lies within [min_value, max_value]
    (either bound optional; `inclusive: false` makes both bounds strict).
#}
{% test accepted_range(model, column_name, min_value=none, max_value=none, inclusive=true) %}
{%- set below_op = ' < ' if inclusive else ' <= ' %}
{%- set above_op = ' > ' if inclusive else ' >= ' %}
{%- set below = column_name ~ below_op ~ min_value if min_value is not none else '1 = 0' %}
{%- set above = column_name ~ above_op ~ max_value if max_value is not none else '1 = 0' %}

select *
from {{ model }}
where
    {{ column_name }} is not null
    and ({{ below }} or {{ above }})

{% endtest %}
