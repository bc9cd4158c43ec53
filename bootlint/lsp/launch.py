"""`bootlint server`: the first answer from :mod:`bootlint.lsp.early` (no pygls imported), then
the full server (:mod:`bootlint.lsp.server`) on the rest of the stream. Apart from both, so that
neither imports the other's way back."""

from __future__ import annotations


def serve() -> int:
    """Answer `initialize` at once, then run the full server (bootlint.lsp.server) on the rest."""
    from bootlint.lsp.early import answer, read_first

    try:
        data, message = read_first(0)
        if message is not None:
            answer(1, message)
    except OSError:
        data, message = b"", None
    from bootlint.lsp.server import main

    return main(data, message["id"] if message is not None else None)
