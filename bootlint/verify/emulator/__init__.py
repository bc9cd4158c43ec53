"""A local Lambda Runtime API, standard library only: what ``bootlint verify`` runs a bootstrap
against. See :mod:`bootlint.verify.emulator.server`."""

from bootlint.verify.emulator.server import (BASE, MAX_RESPONSE_BYTES, Invocation, Record,
                                      RuntimeApi)

__all__ = ["BASE", "MAX_RESPONSE_BYTES", "Invocation", "Record", "RuntimeApi"]
