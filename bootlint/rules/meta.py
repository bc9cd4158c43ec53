"""BL9xx: findings the engine reports about the file itself rather than its runtime."""

from bootlint.rules.registry import Scope, meta_rule

meta_rule("BL900", "syntax-error", "error", "The file does not parse.")
meta_rule("BL902", "unsupported-language", "info",
          "A bootstrap in a language bootlint does not analyse, or a binary.", scope=Scope.ANY_FILE)
meta_rule("BL905", "unparsed-region", "info",
          "The parser could not read a region that the interpreter's own syntax check accepts; the rest is linted.",
          needs=frozenset({"parser-gaps"}))
meta_rule("BL904", "skipped-file", "warning", "A file bootlint chose not to read.", scope=Scope.ANY_FILE)
meta_rule("BL999", "internal-error", "error", "bootlint itself failed on this file (a bug).",
          scope=Scope.ANY_FILE, always_on=True)
meta_rule("BL901", "unused-suppression", "warning", "A `bootlint: disable=` comment that suppressed nothing.",
          suppressible=False)
meta_rule("BL903", "invalid-suppression", "warning", "A malformed suppression comment or an unknown code in it.",
          suppressible=False)
