"""The language server (`bootlint server`). Importing this package loads nothing heavy: pygls
and lsprotocol load in :mod:`bootlint.lsp.server`, which only the `server` command imports."""
