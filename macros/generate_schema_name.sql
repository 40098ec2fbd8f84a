{#
    Custom schemas (staging, silver, gold, seeds, snapshots) are used as
    they are on every target, so BI tools and the dashboard always read
    gold.<model>. Models without a custom schema land in the target schema.
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
