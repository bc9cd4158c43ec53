"""A local Lambda Runtime API, standard library only: what ``bootlint verify`` runs a bootstrap
against. See :mod:`bootlint.emulator.server`."""

from bootlint.emulator.server import (BASE, MAX_RESPONSE_BYTES, Invocation, Record,
                                      RuntimeApi)

__all__ = ["BASE", "MAX_RESPONSE_BYTES", "Invocation", "Record", "RuntimeApi"]
