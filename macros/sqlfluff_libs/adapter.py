"""Lint-time stand-in for dbt's `adapter.dispatch`: renders `<macro_name>(<args>)`."""


def dispatch(macro_name, macro_namespace=None):
    def render(*args, **kwargs):
        return f"{macro_name}({', '.join(str(a) for a in args)})"

    return render
