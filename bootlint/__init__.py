"""bootlint: a static analyser for AWS Lambda custom-runtime bootstrap files."""

__version__ = "0.1.0"

