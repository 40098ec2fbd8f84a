{#
    Portable surrogate key: md5 over the columns cast to text, nulls made
    explicit, joined with '-' (same idea as dbt_utils.generate_surrogate_key,
    which this project cannot install offline).
#}
{% macro surrogate_key(field_list) -%}
    {%- set fields = [] -%}
    {%- for field in field_list -%}
        {%- do fields.append(
            "coalesce(cast(" ~ field ~ " as " ~ dbt.type_string() ~ "), '_null_')"
        ) -%}
        {%- if not loop.last -%}{%- do fields.append("'-'") -%}{%- endif -%}
    {%- endfor -%}
    {{ dbt.hash(dbt.concat(fields)) }}
{%- endmacro %}
