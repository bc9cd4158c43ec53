"""What a rule looks at (:class:`Subject`) and the wording every rule about a request shares
(:func:`about_request`)."""

from __future__ import annotations

from functools import cached_property

from bootlint.diagnostics import Related, Span, Violation
from bootlint.model import RuntimeModel
from bootlint.files.source import SourceFile
from bootlint.util.records import dataclass


@dataclass
class Subject:
    """What a rule looks at: the file, its model, and the model walked from its entry point."""

    source: SourceFile
    model: RuntimeModel | None
    language: str
    shebang: object | None = None   # the parsed #! line (a Shebang), if any
    frontend: object | None = None  # bootlint.frontends.registry.FrontEnd; None for a file not analysed
    target: str = "default"         # where the function runs (settings' `target`)

    @property
    def idioms(self):
        """How the file's language writes what a rule advises (bootlint.frontends.registry.Idioms); for a
        file no front end reads, the default front end's."""
        if self.frontend is not None:
            return self.frontend.idioms
        from bootlint.frontends.registry import default

        return default().idioms

    @cached_property
    def flow(self):
        """The model walked from its entry point (computed once, when a rule first asks)."""
        from bootlint.analysis.flow import Flow

        return Flow(self.model)


def about_request(call, span: Span, message: str, fix=None) -> Violation:
    """A violation about a Runtime API request; when a helper of the file makes the request for
    this call site, the message names the helper and the related location is the request."""
    via = getattr(call, "via", ())
    if not via:
        return Violation(span, message, fix)
    chain = " -> ".join(f"`{name}`" for name in via)
    related = (Related(call.helper_span, f"the request, in `{via[-1]}`"),) if call.helper_span else ()
    return Violation(span, f"{message} (the request is made by {chain}, called here)", fix,
                     related=related)
