{#
    A boolean SQL expression holds on every row (restrict rows with the
    `where` config); rows where it is false or null fail. The expression is
    complete on its own, also when the test sits under a column.
#}
{% test expression_is_true(model, expression, column_name=none) %}

select *
from {{ model }}
where not coalesce({{ expression }}, false)

{% endtest %}
