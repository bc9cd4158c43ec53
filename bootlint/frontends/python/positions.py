"""Where each libcst node is in the text: libcst's PositionProvider, computed directly.

``MetadataWrapper.resolve(PositionProvider)`` computes the positions (one code-generation pass)
and then visits the whole module once more for the "batchable" providers asked for with it, even
when there are none: on a large file that empty visit was a fifth of the lint. The provider is
run here on its own, as libcst's resolver runs it; should a libcst version change that
internal step, the resolver is used instead.
"""

from __future__ import annotations

from typing import Mapping

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider


def positions_of(module: cst.Module) -> Mapping:
    """The code range of every node of ``module`` (the module is not copied)."""
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    try:
        return PositionProvider()._gen(wrapper)
    except (AttributeError, TypeError):   # an internal step of another libcst version
        return wrapper.resolve(PositionProvider)
