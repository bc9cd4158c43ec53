"""Reading a file's bytes into text, and mapping parser positions back to 1-based columns."""

from __future__ import annotations

from dataclasses import field

from bootlint.diagnostics import Span
from bootlint.fixes.textmap import BOM, TextMap, line_break
from bootlint.util.records import dataclass
# A UTF-16 text's start: with a byte-order mark, or `#!` as two-byte units without one.
UTF16_STARTS = ((b"\xff\xfe", "UTF-16 (little-endian, with a byte-order mark)", "utf-16"),
                (b"\xfe\xff", "UTF-16 (big-endian, with a byte-order mark)", "utf-16"),
                (b"#\x00!\x00", "UTF-16 (little-endian)", "utf-16-le"),
                (b"\x00#\x00!", "UTF-16 (big-endian)", "utf-16-be"))
# Magic numbers of executables that Lambda can run as a bootstrap without an interpreter.
BINARY_MAGIC = (b"\x7fELF", b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xce\xfa\xed\xfe",
                b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe", b"MZ")


@dataclass
class SourceFile:
    """One file as bootlint sees it: the raw bytes, and the text the front ends parse.

    ``text`` has the byte-order mark removed and CR LF folded to LF, so that the parsers see
    what the kernel's interpreter would see after the packaging problems (reported separately)
    are fixed. Line numbers are unchanged by either step.
    """

    path: str
    raw: bytes
    text: str = ""
    has_bom: bool = False
    has_crlf: bool = False
    crlf_line: int = 0
    cr_only: bool = False        # classic Mac OS line endings: CR and never LF
    utf16: str = ""              # which UTF-16 the file is in (the kernel cannot run it)
    invalid_utf8_line: int = 0
    is_binary: bool = False
    mode: int | None = None
    # Whether the file would be executable where it is deployed from, and how that was learnt
    # ("disk", "git index", "zip"); None when unknown (text given to the linter directly).
    executable: bool | None = None
    mode_origin: str = ""
    mode_note: str = ""
    encoding: str = "utf-8"      # what the text was decoded from (a PEP 263 cookie can change it)
    _map: TextMap | None = field(default=None, repr=False, compare=False)

    @classmethod
    def from_bytes(cls, path: str, raw: bytes, mode: int | None = None) -> "SourceFile":
        """Decode ``raw`` (UTF-8, invalid bytes replaced) and note BOM, CR LF and binaries."""
        src = cls(path=path, raw=raw, mode=mode)
        for start, description, codec in UTF16_STARTS:
            if raw.startswith(start):
                src.utf16 = description
                src.text = raw.decode(codec, errors="replace").lstrip("\ufeff").replace("\r\n", "\n")
                return src
        # NUL bytes mark a binary, except in a Python script: python3 refuses those (BL900).
        src.is_binary = raw.startswith(BINARY_MAGIC) or (
            b"\x00" in raw[:8192] and not _python_script(raw))
        body = raw
        if body.startswith(BOM):
            src.has_bom = True
            body = body[len(BOM):]
        crlf_at = body.find(b"\r\n")
        if crlf_at >= 0:
            src.has_crlf = True
            src.crlf_line = body.count(b"\n", 0, crlf_at) + 1
            body = body.replace(b"\r\n", b"\n")
        elif line_break(body) == b"\r":
            # Lines as an editor shows them; the kernel sees one line (BL402).
            src.cr_only = True
            body = body.replace(b"\r", b"\n")
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            src.invalid_utf8_line = body.count(b"\n", 0, exc.start) + 1
            text = body.decode("utf-8", errors="replace")
        src.text = text
        return src

    def decode_as(self, encoding: str) -> None:
        """Decode the bytes again in the encoding a PEP 263 coding cookie names (Python)."""
        body = self.raw[len(BOM):] if self.has_bom else self.raw
        text = body.decode(encoding, errors="replace").replace("\r\n", "\n")
        self.text = text.replace("\r", "\n") if self.cr_only else text
        self.encoding = encoding
        self._map = None

    @property
    def textmap(self) -> TextMap:
        """Positions in :attr:`text` (lines, code points, UTF-8 bytes, UTF-16)."""
        if self._map is None or self._map.text is not self.text:
            self._map = TextMap(self.text)
        return self._map

    @property
    def encoded(self) -> bytes:
        """The text as UTF-8: what tree-sitter parses and what its byte offsets refer to."""
        return self.textmap.encoded

    def line_start(self, row: int) -> int:
        """Byte offset in :attr:`encoded` where a 0-based row starts."""
        return self.textmap.line_start(row)

    def column(self, row: int, byte_col: int) -> int:
        """1-based character column of a 0-based (row, byte column) position."""
        return self.textmap.column(row, byte_col)

    def span(self, start: tuple[int, int], end: tuple[int, int]) -> Span:
        """A :class:`Span` from tree-sitter's 0-based (row, byte column) points."""
        return self.textmap.span_of_points(start, end)

    def node_span(self, node) -> Span:
        """The :class:`Span` of a tree-sitter node (or anything with its ``start_point`` and
        ``end_point``)."""
        return self.textmap.span_of_points(node.start_point, node.end_point)

    @property
    def name(self) -> str:
        """The file's own name (for an archive member, its name inside the archive)."""
        return self.path.rsplit("!", 1)[-1].rsplit("/", 1)[-1]

    @property
    def is_entrypoint(self) -> bool:
        """Named `bootstrap`: the file Lambda executes (bootstrap.sh/.py are sources)."""
        return self.name == "bootstrap"

    @property
    def shebang(self) -> str | None:
        """The first line when it starts with ``#!``, else None."""
        if self.text.startswith("#!"):
            return self.text.split("\n", 1)[0]
        return None


def _python_script(raw: bytes) -> bool:
    """The first line is a shebang naming python (or pypy)."""
    first = raw[:256].split(b"\n", 1)[0]
    return first.startswith(b"#!") and (b"python" in first or b"pypy" in first)
