"""bootlint.util.records.dataclass makes the classes dataclasses.dataclass makes, for the subset
bootlint uses: each test builds the same classes with both and compares what they do."""

from __future__ import annotations

import copy
import dataclasses
import pickle
from typing import ClassVar

import pytest

from bootlint.util import records


def family(dataclass):
    """The shapes bootlint's classes take, built with ``dataclass``."""

    @dataclass(frozen=True)
    class Span:
        line: int
        col: int = 0

    @dataclass(frozen=True)
    class Request:
        title: ClassVar[str] = "a fix"
        span: Span

    @dataclass(frozen=True)
    class Guard(Request):
        title: ClassVar[str] = "guard it"
        name: str = "handler"
        tags: tuple = ()
        note: object = dataclasses.field(default=None, repr=False, compare=False)

    @dataclass(eq=False)
    class Node:
        span: Span

    @dataclass(eq=False)
    class Loop(Node):
        body: list = dataclasses.field(default_factory=list)
        kind: str = "while"

    @dataclass
    class Result:
        path: str
        findings: list = dataclasses.field(default_factory=list)
        seen: dict = dataclasses.field(default_factory=dict, repr=False, compare=False)
        ok: bool = True

    @dataclass(frozen=True, order=True)
    class Version:
        major: int
        minor: int

    @dataclass(frozen=True)
    class Keyed:
        key: str
        cache: dict = dataclasses.field(default_factory=dict, hash=False, compare=False)

    @dataclass(frozen=True, eq=False)
    class Identity:
        value: int

    @dataclass(frozen=True)
    class OwnHash:
        a: int

        def __hash__(self):
            return 7

    return dict(Span=Span, Request=Request, Guard=Guard, Node=Node, Loop=Loop, Result=Result,
                Version=Version, Keyed=Keyed, Identity=Identity, OwnHash=OwnHash)


STD, OURS = family(dataclasses.dataclass), family(records.dataclass)


def both(name):
    return STD[name], OURS[name]


def _fields(cls):
    return [(f.name, f.default, f.default_factory, f.init, f.repr, f.compare, f.hash, str(f.type))
            for f in dataclasses.fields(cls)]


@pytest.mark.parametrize("name", sorted(STD))
def test_the_same_fields_flags_and_attributes(name):
    std, ours = both(name)
    assert records.dataclass is not dataclasses.dataclass
    assert _fields(ours) == _fields(std)
    assert dataclasses.is_dataclass(ours)
    assert ours.__match_args__ == std.__match_args__
    for attr in ("init", "repr", "eq", "order", "unsafe_hash", "frozen"):
        assert getattr(ours.__dataclass_params__, attr) == getattr(std.__dataclass_params__, attr), attr
    assert (ours.__hash__ is None) == (std.__hash__ is None)
    assert set(ours.__dataclass_fields__) == set(std.__dataclass_fields__)   # ClassVars too
    for attr in set(vars(std)) - {"__init__", "__repr__", "__eq__", "__hash__", "__setattr__",
                                  "__delattr__", "__lt__", "__le__", "__gt__", "__ge__", "__doc__",
                                  "__dataclass_fields__", "__dataclass_params__", "__match_args__",
                                  "__dict__", "__weakref__", "__module__", "__qualname__"}:
        assert getattr(ours, attr) == getattr(std, attr), attr   # class-level defaults stay
    for attr in set(vars(std)) ^ set(vars(ours)):
        assert attr in ("__doc__",), attr


def _instances(classes):
    span = classes["Span"](3, 4)
    return [span, classes["Span"](3), classes["Guard"](span), classes["Guard"](span, "h", ("x",), note=1),
            classes["Loop"](span), classes["Result"]("p"), classes["Result"]("p", [1], {"a": 1}, False),
            classes["Version"](1, 2), classes["Keyed"]("k"), classes["Identity"](1), classes["OwnHash"](1)]


def test_the_same_instances_repr_equality_and_hashes():
    for std, ours in zip(_instances(STD), _instances(OURS)):
        assert repr(ours) == repr(std)
        assert (ours == ours) == (std == std)
        assert ours == copy.copy(ours) if type(std).__eq__ is not object.__eq__ else ours != copy.copy(ours)
        if type(std).__hash__ is not None:
            same = type(ours)(**{f.name: getattr(ours, f.name) for f in dataclasses.fields(ours)})
            assert (hash(same) == hash(ours)) == (hash(copy.copy(std)) == hash(std))
            if type(std).__hash__ is not object.__hash__:
                assert hash(ours) == hash(std)   # the same tuple is hashed
        assert dataclasses.asdict(ours) == dataclasses.asdict(std)


def test_compare_only_the_compared_fields_and_never_across_classes():
    for classes in (STD, OURS):
        span = classes["Span"](1)
        assert classes["Guard"](span, note=1) == classes["Guard"](span, note=2)
        assert classes["Result"]("p", seen={"a": 1}) == classes["Result"]("p")
        assert classes["Keyed"]("k", {"x": 1}) == classes["Keyed"]("k")
        assert hash(classes["Keyed"]("k", {"x": 1})) == hash(classes["Keyed"]("k"))
        assert classes["Span"](1, 2) != (1, 2)
        assert classes["Guard"](span) != classes["Request"](span)
        assert sorted([classes["Version"](2, 0), classes["Version"](1, 9)]) == [classes["Version"](1, 9),
                                                                                   classes["Version"](2, 0)]
        assert classes["Version"](1, 2) < classes["Version"](1, 3)
        with pytest.raises(TypeError):
            classes["Version"](1, 2) < (1, 3)


def test_frozen_instances_refuse_changes_with_the_same_error():
    for classes in (STD, OURS):
        guard = classes["Guard"](classes["Span"](1))
        with pytest.raises(dataclasses.FrozenInstanceError, match="cannot assign to field 'name'"):
            guard.name = "x"
        with pytest.raises(dataclasses.FrozenInstanceError, match="cannot delete field 'name'"):
            del guard.name
        with pytest.raises(dataclasses.FrozenInstanceError, match="cannot assign to field 'other'"):
            guard.other = 1
        assert dataclasses.replace(guard, name="y").name == "y"
        loop = classes["Loop"](classes["Span"](1))
        loop.kind = "for"
        assert loop.kind == "for" and loop.body == [] and loop.body is not classes["Loop"](loop.span).body


def test_a_record_that_holds_itself_shows_dots():
    for classes in (STD, OURS):
        result = classes["Result"]("p")
        result.findings.append(result)
        assert repr(result) == "Result(path='p', findings=[...], ok=True)".replace("Result", type(result).__qualname__)


@pytest.mark.parametrize("dataclass", [dataclasses.dataclass, records.dataclass])
def test_the_same_mistakes_are_refused(dataclass):
    with pytest.raises(ValueError, match="mutable default"):
        @dataclass
        class Bad:
            items: list = []
    with pytest.raises(TypeError, match="non-default argument 'b' follows default argument"):
        @dataclass
        class Order:
            a: int = 1
            b: int
    @dataclass(frozen=True)
    class Frozen:
        a: int
    with pytest.raises(TypeError, match="cannot inherit non-frozen dataclass from a frozen one"):
        @dataclass
        class Thawed(Frozen):
            b: int = 0


def test_what_the_subset_does_not_cover_goes_to_dataclasses():
    @records.dataclass(slots=True)
    class Slotted:
        a: int

    @records.dataclass
    class Posted:
        a: int

        def __post_init__(self):
            self.b = self.a + 1

    assert Slotted.__slots__ == ("a",) and Posted(1).b == 2


def test_bootlint_classes_are_made_by_records_and_their_init_code_is_kept():
    from bootlint.diagnostics import Span
    from bootlint.model import Loop

    assert Loop.__init__.__code__.co_filename == "<string>" and Loop.__repr__.__qualname__ == "Loop.__repr__"
    assert Span(1, 2, 3, 4) == Span(1, 2, 3, 4) and hash(Span(1, 2, 3, 4)) == hash((1, 2, 3, 4))
    # Results cross to the parent from --jobs workers by pickle.
    from bootlint.engine import Selection, lint_source
    from bootlint.files.source import SourceFile

    result = lint_source(SourceFile.from_bytes("bootstrap", b"#!/bin/sh\ncurl http://x/\n"), Selection())
    again = pickle.loads(pickle.dumps(result))
    assert again == result and [f.message for f in again.findings] == [f.message for f in result.findings]


@pytest.mark.parametrize("dataclass", [dataclasses.dataclass, records.dataclass])
def test_a_frozen_field_behind_a_descriptor_is_set_through_it(dataclass):
    seen = []

    class Base:
        @property
        def value(self):
            return self.__dict__["stored"]

        @value.setter
        def value(self, v):
            seen.append(v)
            self.__dict__["stored"] = v

    @dataclass(frozen=True)
    class Held(Base):
        value: int
        other: int = 0

    held = Held(3)
    assert (held.value, held.other, seen) == (3, 0, [3])
