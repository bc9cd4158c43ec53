"""The documented error body: {"errorMessage": str, "errorType": str, "stackTrace": [str]}."""

from __future__ import annotations

from bootlint.model import Piece


def error_body_problem(pieces: tuple[Piece, ...]) -> str:
    """Why a body is not the documented error JSON, or '' when it is (or cannot be known)."""
    literal = "".join(p.text for p in pieces if p.is_literal)
    if all(p.is_literal or p.digits for p in pieces) and not all(p.is_literal for p in pieces):
        # `"exit code $?"`: digits cannot break the JSON; check the text around them.
        return json_error_problem("".join(p.text if p.is_literal else "0" for p in pieces))
    if not all(p.is_literal for p in pieces):
        if '"' in literal and ("{" in literal or "errorMessage" in literal):
            return ("builds JSON by pasting a shell value between quotes: a quote, backslash or "
                    "newline in it breaks the JSON")
        return ""  # a whole value from elsewhere ($BODY, $(jq ...)): cannot be known
    return json_error_problem(literal)


def json_error_problem(text: str) -> str:
    """Check a literal error body against {"errorMessage": str, "errorType": str, "stackTrace": [str]}."""
    import json   # only for a literal error body (most bootstraps post none)

    try:
        data = json.loads(text)
    except ValueError:
        return "is plain text, not the error JSON"
    if not isinstance(data, dict):
        return "is JSON but not an object"
    missing = [k for k in ("errorMessage", "errorType") if k not in data]
    if missing:
        return f"has no {' or '.join(missing)}"
    if "stackTrace" in data and not isinstance(data["stackTrace"], list):
        return "has stackTrace as a string, not an array of strings"
    return ""
