"""Lint-time stand-ins for dbt's cross-database macros (`dbt.dateadd`, ...).

sqlfluff's jinja templater does not know dbt's `dbt.` namespace; these render
parseable SQL of the same shape so models can be linted without a warehouse.
dbt itself never loads this file.
"""


def _sql(*parts):
    return ", ".join(str(p) for p in parts)


def dateadd(datepart, interval, from_date_or_timestamp):
    return f"date_add({from_date_or_timestamp}, interval ({interval}) {datepart})"


def datediff(first_date, second_date, datepart):
    return f"date_diff('{datepart}', {first_date}, {second_date})"


def date_trunc(datepart, date):
    return f"date_trunc('{datepart}', {date})"


def hash(field):  # noqa: A001 - mirrors dbt.hash
    return f"md5(cast({field} as varchar))"


def concat(fields):
    return f"concat({_sql(*fields)})"


def safe_cast(field, type_):
    return f"try_cast({field} as {type_})"


def listagg(measure, delimiter_text="','", order_by_clause=None, limit_num=None):
    order = f" {order_by_clause}" if order_by_clause else ""
    return f"string_agg({measure}, {delimiter_text}{order})"


def current_timestamp():
    return "current_timestamp"


def type_string():
    return "varchar"


def type_timestamp():
    return "timestamp"


def type_bigint():
    return "bigint"


def type_int():
    return "integer"


def type_float():
    return "double"


def type_numeric():
    return "numeric(28, 6)"


def type_boolean():
    return "boolean"
