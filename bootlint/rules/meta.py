"""BL9xx: findings the engine reports about the file itself rather than its runtime."""

from bootlint.rules import meta_rule

meta_rule("BL900", "syntax-error", "error", "The file does not parse.")
meta_rule("BL902", "unsupported-language", "info",
          "A bootstrap in a language bootlint does not analyse, or a binary.")
meta_rule("BL905", "unparsed-region", "info",
          "The parser could not read a region that the interpreter's own syntax check accepts; the rest is linted.")
meta_rule("BL904", "skipped-file", "warning", "A file bootlint chose not to read.")
meta_rule("BL999", "internal-error", "error", "bootlint itself failed on this file (a bug).")
meta_rule("BL901", "unused-suppression", "warning", "A `bootlint: disable=` comment that suppressed nothing.")
meta_rule("BL903", "invalid-suppression", "warning", "A malformed suppression comment or an unknown code in it.")
