"""``dataclass`` for bootlint's own classes, at a tenth of the import cost.

``dataclasses.dataclass`` does a lot of work in Python for every class it decorates: it reads
each annotation again to tell ClassVar and InitVar apart, writes each method's source on its
own and wraps ``__repr__`` against recursion. A cold ``bootlint check`` defines about ninety
classes and spent 10-14 ms of its CPU there, a sixth of everything bootlint itself does. This
decorator makes the same classes for the subset bootlint uses (``init``, ``repr``, ``eq``,
``frozen``, ``order``; fields from ``dataclasses.field`` with ``default``, ``default_factory``,
``repr``, ``compare``, ``hash``; ``ClassVar`` annotations; inheritance from other such classes).
Only ``__init__`` is written as source text (instances are made in hot loops), its code kept
between runs by :mod:`bootlint.util.classcache`; ``__eq__``, ``__hash__`` and the orderings
compare the same field tuples, read by ``operator.attrgetter``; ``__repr__`` and a frozen class's
``__setattr__``/``__delattr__`` are closures. The classes carry ``__dataclass_fields__`` and
``__dataclass_params__`` as dataclasses makes them, so ``dataclasses.fields``, ``replace``,
``asdict`` and ``is_dataclass`` work on them unchanged; tests/test_records.py builds every shape
bootlint uses both ways and compares fields, flags, repr, equality, hashes and errors. Anything
outside the subset
(``slots``, ``kw_only``, ``InitVar``, ``__post_init__``, ``unsafe_hash``) is handed to
``dataclasses.dataclass`` itself.
"""

from __future__ import annotations

import dataclasses
import operator
import sys
from _thread import get_ident as _get_ident
from dataclasses import MISSING, Field, FrozenInstanceError

from bootlint.util.classcache import cached_exec

_FIELD = dataclasses._FIELD                  # the marker dataclasses.fields() keeps
_FIELD_CLASSVAR = dataclasses._FIELD_CLASSVAR
_PARAMS = dataclasses._DataclassParams


def _params(init: bool, repr_: bool, eq: bool, order: bool, frozen: bool):
    try:   # Python 3.12 and later also record match_args, kw_only, slots and weakref_slot
        return _PARAMS(init, repr_, eq, order, False, frozen, True, False, False, False)
    except TypeError:
        return _PARAMS(init, repr_, eq, order, False, frozen)


def _is_classvar(annotation) -> bool:
    if isinstance(annotation, str):
        head = annotation.split("[", 1)[0].strip()
        return head in ("ClassVar", "typing.ClassVar", "t.ClassVar")
    return annotation is dataclasses.typing.ClassVar or getattr(annotation, "__origin__", None) is dataclasses.typing.ClassVar


def _needs_stdlib(cls, options: dict) -> bool:
    if options.get("slots") or options.get("kw_only") or options.get("unsafe_hash") or options.get("match_args") is False:
        return True
    if "__post_init__" in cls.__dict__ or any("__post_init__" in vars(base) for base in cls.__mro__[1:-1]):
        return True
    annotations = cls.__dict__.get("__annotations__", {})
    return any(isinstance(a, str) and "InitVar" in a for a in annotations.values())


def _own_fields(cls) -> list[Field]:
    fields = []
    for name, annotation in cls.__dict__.get("__annotations__", {}).items():
        default = cls.__dict__.get(name, MISSING)
        if isinstance(default, Field):
            f = default
        else:
            f = dataclasses.field(default=default)
        f.name, f.type = name, annotation
        if f.kw_only is MISSING:
            f.kw_only = False
        if _is_classvar(annotation):
            f._field_type = _FIELD_CLASSVAR
            if f.default_factory is not MISSING:
                raise TypeError(f"field {name} cannot have a default factory")
        else:
            f._field_type = _FIELD
            if f.default is not MISSING and f.default.__class__.__hash__ is None:
                raise ValueError(f"mutable default {type(f.default)} for field {name} is not allowed: "
                                 f"use default_factory")
        fields.append(f)
    return fields


def dataclass(cls=None, /, *, init: bool = True, repr: bool = True, eq: bool = True, order: bool = False,
              frozen: bool = False, **options):
    """``dataclasses.dataclass`` with the same arguments (see the module's docstring)."""
    def wrap(cls):
        if order and not eq:
            raise ValueError("eq must be true if order is true")
        if _needs_stdlib(cls, options):
            return dataclasses.dataclass(cls, init=init, repr=repr, eq=eq, order=order, frozen=frozen, **options)
        return _process(cls, init, repr, eq, order, frozen)
    return wrap if cls is None else wrap(cls)


def _process(cls, init: bool, repr_: bool, eq: bool, order: bool, frozen: bool):
    fields: dict[str, Field] = {}
    any_frozen_base = has_dataclass_bases = False
    for base in cls.__mro__[-1:0:-1]:
        base_fields = base.__dict__.get("__dataclass_fields__")
        if base_fields is not None:
            has_dataclass_bases = True
            fields.update(base_fields)
            if base.__dataclass_params__.frozen:
                any_frozen_base = True
    for f in _own_fields(cls):
        fields[f.name] = f
        # A default stays a class attribute (as dataclasses leaves it); a field() goes.
        if isinstance(cls.__dict__.get(f.name), Field):
            if f.default is MISSING:
                delattr(cls, f.name)
            else:
                setattr(cls, f.name, f.default)
    if has_dataclass_bases:
        if any_frozen_base and not frozen:
            raise TypeError("cannot inherit non-frozen dataclass from a frozen one")
        if not any_frozen_base and frozen:
            raise TypeError("cannot inherit frozen dataclass from a non-frozen one")
    cls.__dataclass_fields__ = fields
    cls.__dataclass_params__ = _params(init, repr_, eq, order, frozen)

    real = [f for f in fields.values() if f._field_type is _FIELD]
    methods: dict[str, object] = {}
    if init and "__init__" not in cls.__dict__:
        methods["__init__"] = _init(cls, real, frozen)
    if repr_ and "__repr__" not in cls.__dict__:
        methods["__repr__"] = _repr(tuple(f.name for f in real if f.repr))
    key = _key(tuple(f.name for f in real if f.compare))
    if eq and "__eq__" not in cls.__dict__:
        methods["__eq__"] = _compare(key, operator.eq)
    if order:
        for name, op in (("__lt__", operator.lt), ("__le__", operator.le), ("__gt__", operator.gt),
                         ("__ge__", operator.ge)):
            if name in cls.__dict__:
                raise TypeError(f"Cannot overwrite attribute {name} in class {cls.__name__}. "
                                f"Consider using functools.total_ordering")
            methods[name] = _compare(key, op)
    if frozen:
        methods["__setattr__"], methods["__delattr__"] = _frozen(cls, frozenset(fields))
    # __hash__ as dataclasses decides it (unsafe_hash=False): eq and frozen hash the compared
    # fields' tuple; eq alone makes instances unhashable; no eq keeps what the class has.
    own_hash = cls.__dict__.get("__hash__", MISSING)
    explicit_hash = own_hash is not MISSING and not (own_hash is None and "__eq__" in cls.__dict__)
    if eq and frozen and not explicit_hash:
        methods["__hash__"] = _hash(_key(tuple(f.name for f in real if (f.compare if f.hash is None else f.hash))))
    elif eq and not frozen and not explicit_hash:
        cls.__hash__ = None
    for name, function in methods.items():
        function.__name__ = name
        function.__qualname__ = f"{cls.__qualname__}.{name}"
        setattr(cls, name, function)
    if not getattr(cls, "__doc__", None):
        cls.__doc__ = f"{cls.__name__}({', '.join(f.name for f in real)})"
    cls.__match_args__ = tuple(f.name for f in real if f.init)
    return cls


def _init(cls, real: list[Field], frozen: bool):
    """``__init__``, the one method written as text (instances are made in hot loops: the
    compiled code is what dataclasses would run), its code kept by classcache."""
    names = {"MISSING": MISSING, "__setattr": object.__setattr__}
    params, body, seen_default = ["self"], [], False
    for f in real:
        if not f.init:
            continue
        if f.default is not MISSING:
            names[f"_d_{f.name}"] = f.default
            params.append(f"{f.name}=_d_{f.name}")
            seen_default = True
        elif f.default_factory is not MISSING:
            names[f"_f_{f.name}"] = f.default_factory
            params.append(f"{f.name}=MISSING")
            seen_default = True
        else:
            if seen_default:
                raise TypeError(f"non-default argument {f.name!r} follows default argument")
            params.append(f.name)
    for f in real:
        if f.init:
            value = f"_f_{f.name}() if {f.name} is MISSING else {f.name}" if f.default_factory is not MISSING else f.name
        elif f.default_factory is not MISSING:
            names[f"_f_{f.name}"] = f.default_factory
            value = f"_f_{f.name}()"
        elif f.default is not MISSING:
            names[f"_d_{f.name}"] = f.default
            value = f"_d_{f.name}"
        else:
            continue
        if not frozen:
            body.append(f"  self.{f.name} = {value}")
        elif _descriptor(cls, f.name):
            body.append(f"  __setattr(self, {f.name!r}, {value})")
        else:
            # Straight into the instance's __dict__: what object.__setattr__ does when no class
            # has a descriptor of that name, at half the cost (frozen records are made in hot loops).
            body.append(f"  __d[{f.name!r}] = {value}")
    if any("__d[" in line for line in body):
        body.insert(0, "  __d = self.__dict__")
    text = (f"def __create_fn__({', '.join(names)}):\n def __init__({', '.join(params)}):\n"
            + ("\n".join(body) or "  pass") + "\n return __init__")
    namespace: dict = {}
    module = sys.modules.get(cls.__module__)
    cached_exec(text, vars(module) if module is not None else {}, namespace)
    return namespace["__create_fn__"](**names)


def _descriptor(cls, name: str) -> bool:
    """Does a class of ``cls``'s MRO define ``name`` as a data descriptor (a property with a
    setter, a slot), which object.__setattr__ would call?"""
    return any(hasattr(type(klass.__dict__[name]), "__set__") for klass in cls.__mro__ if name in klass.__dict__)


def _key(names: tuple[str, ...]):
    """The tuple dataclasses compares and hashes, ``(self.a, self.b, ...)``, read in C."""
    if len(names) >= 2:
        return operator.attrgetter(*names)
    if len(names) == 1:
        get = operator.attrgetter(names[0])
        return lambda obj: (get(obj),)
    return lambda obj: ()


def _compare(key, op):
    if op is operator.eq:
        def equal(self, other):
            if other is self:   # (as the field tuples' comparison decides it: each is itself)
                return True
            if other.__class__ is self.__class__:
                return key(self) == key(other)
            return NotImplemented
        return equal

    def compare(self, other):
        if other.__class__ is self.__class__:
            return op(key(self), key(other))
        return NotImplemented
    return compare


def _hash(key):
    def __hash__(self):
        return hash(key(self))
    return __hash__


def _repr(names: tuple[str, ...]):
    running: set = set()

    def __repr__(self):
        mark = (id(self), _get_ident())
        if mark in running:   # a record that holds itself
            return "..."
        running.add(mark)
        try:
            shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in names)
            return f"{self.__class__.__qualname__}({shown})"
        finally:
            running.discard(mark)
    return __repr__


def _frozen(cls, names: frozenset[str]):
    def __setattr__(self, name, value):
        if type(self) is cls or name in names:
            raise FrozenInstanceError(f"cannot assign to field {name!r}")
        super(cls, self).__setattr__(name, value)

    def __delattr__(self, name):
        if type(self) is cls or name in names:
            raise FrozenInstanceError(f"cannot delete field {name!r}")
        super(cls, self).__delattr__(name)
    return __setattr__, __delattr__
