{#
    Normalised form of a game or category name for name matching:
    lower-case, with white space, ASCII punctuation, underscores and common
    typographic symbols removed. 'Counter-Strike_2', 'Counter-Strike 2' and
    'counter strike 2' all become 'counterstrike2'; Korean names keep their
    Hangul ('리그 오브 레전드' -> '리그오브레전드'). Korean and English
    aliases are folded by matching against both name_en and name_ko of the
    games seed (see int_game_name_aliases).
#}
{% macro normalize_game_name(expr) -%}
    {{ return(adapter.dispatch('normalize_game_name', 'game_stream_trends')(expr)) }}
{%- endmacro %}

{% macro game_name_strip_pattern() -%}
    '[[:space:][:punct:]™®©·・：’‘“”]'
{%- endmacro %}

{% macro default__normalize_game_name(expr) -%}
    regexp_replace(lower({{ expr }}), {{ game_name_strip_pattern() }}, '', 'g')
{%- endmacro %}

{#- Redshift's regexp_replace replaces every match and takes no 'g' flag. -#}
{% macro redshift__normalize_game_name(expr) -%}
    regexp_replace(lower({{ expr }}), {{ game_name_strip_pattern() }}, '')
{%- endmacro %}
