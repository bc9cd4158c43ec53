"""The shell front end: tree-sitter-bash into the runtime model."""
