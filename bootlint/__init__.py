"""bootlint: a static analyser for AWS Lambda custom-runtime bootstrap files."""

__version__ = "0.1.0"

# Before any of bootlint's dataclasses is defined: their generated methods are compiled once and
# kept beside the bytecode cache (bootlint/util/classcache.py says why).
from bootlint.util import classcache as _classcache

_classcache.install()
