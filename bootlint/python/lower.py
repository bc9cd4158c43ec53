"""Placeholder replaced by the libcst front end."""
from bootlint.model import RuntimeModel


def lower_python(src):
    return RuntimeModel(path=src.path, language="python")
