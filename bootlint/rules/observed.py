"""BL5xx: what only `bootlint verify` can see, by running the bootstrap. No static check."""

from bootlint.model import ApiCall, Endpoint, HandlerCall
from bootlint.rules.registry import Observed, meta_rule

meta_rule("BL501", "invocation-timeout", "error",
          "Observed by verify: an invocation not answered before its deadline, or a runtime that "
          "never asks for an event.", verify_only=True, observed=Observed(HandlerCall))
meta_rule("BL502", "response-too-large", "error",
          "Observed by verify: a response over the 6 MB limit (the API answered 413).",
          verify_only=True, observed=Observed(ApiCall, (Endpoint.RESPONSE,)))
meta_rule("BL503", "error-body-not-documented", "warning",
          "Observed by verify: an /error or /init/error body that is not the documented error JSON.",
          verify_only=True, observed=Observed(ApiCall, (Endpoint.ERROR, Endpoint.INIT_ERROR)))
meta_rule("BL504", "runtime-exited", "error",
          "Observed by verify: the process exited during an invocation or its initialisation.",
          verify_only=True, observed=Observed(HandlerCall))
meta_rule("BL505", "invoke-state-violation", "error",
          "Observed by verify: a request out of turn in Lambda's invoke state machine: a second "
          "answer for one invocation, a second next while one is open, /init/error after init.",
          verify_only=True, observed=Observed(ApiCall, (Endpoint.NEXT,)))
