{#
    SOOP category numbers come zero-padded to 8 digits from some endpoints
    and unpadded ('40066') from others: always 8 digits, as text.
#}
{% macro normalize_soop_category(expr) -%}
    case
        when nullif(trim({{ expr }}), '') is not null
            then lpad(trim({{ expr }}), 8, '0')
    end
{%- endmacro %}
