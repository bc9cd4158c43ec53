"""The Python front end: libcst into the runtime model (imported only for Python bootstraps)."""
