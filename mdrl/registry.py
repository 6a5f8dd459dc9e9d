"""One small name -> object registry, used wherever mdrl lets code register things by name.

Domains (:mod:`mdrl.domains.base`) and curricula (:mod:`mdrl.curricula`) are looked up by
the name a config gives; reasoning-gym's ``register_dataset``/``create_dataset``
(``reasoning_gym/factory.py``) is the model: a duplicate name is an error at registration,
an unknown name an error that lists the known ones.

Both errors are :class:`KeyError` subclasses carrying one readable sentence, so callers that
turn a config value into an object can re-raise them as :class:`mdrl.errors.UserError`.
"""

from __future__ import annotations

from typing import Callable, Generic, Iterator, TypeVar

T = TypeVar("T")


class RegistryError(KeyError):
    """A duplicate or unknown name; ``str(err)`` is one sentence (not KeyError's quoted repr)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class Registry(Generic[T]):
    """Objects of one kind by name, e.g. ``Registry[Curriculum]("curriculum")``.

    ``kind`` names what is registered in the error sentences ("unknown curriculum 'x';
    known: a, b").
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}

    def add(self, name: str, obj: T) -> T:
        """Register ``obj`` under ``name``; a name already taken raises :class:`RegistryError`."""
        if name in self._items:
            raise RegistryError(f"{self.kind} {name!r} is registered twice")
        self._items[name] = obj
        return obj

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator form of :meth:`add`: ``@reg.register("name")`` above a function."""

        def deco(obj: T) -> T:
            return self.add(name, obj)

        return deco

    def get(self, name: str) -> T:
        """The object registered under ``name``; an unknown name raises :class:`RegistryError`."""
        try:
            return self._items[name]
        except KeyError:
            raise RegistryError(f"unknown {self.kind} {name!r}; known: {', '.join(sorted(self._items)) or 'none'}") from None

    def remove(self, name: str) -> T | None:
        """Take ``name`` out (tests that register throw-away entries clean up with this)."""
        return self._items.pop(name, None)

    def names(self) -> list[str]:
        """Registered names, sorted."""
        return sorted(self._items)

    def values(self) -> list[T]:
        """Registered objects, in registration order."""
        return list(self._items.values())

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._items))

    def __len__(self) -> int:
        return len(self._items)
