"""The three places where the store reaches into chromadb's private state or its
imports, kept together.

chromadb offers no setting for any of them, so they use attributes and imports it does
not promise to keep. ``tests/test_chroma_patches.py`` checks each one against the
installed chromadb and fails with a clear message when chromadb's version is not
``CHECKED_CHROMADB``: after an upgrade, recheck these functions and then update that
constant.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, final

_F = TypeVar("_F", bound=Callable[..., Any])

#: the chromadb version these patches were last checked against
CHECKED_CHROMADB = "1.5.9"
#: seconds to open a connection to a Chroma server (the whole request has its own bound)
CONNECT_TIMEOUT_S = 5.0


def set_http_timeout(client: Any, seconds: float) -> bool:
    """Bound every request of a ``chromadb.HttpClient`` to ``seconds``; whether it could.

    chromadb builds its httpx session with ``timeout=None``, so a server that hangs
    (stopped, cut off) would hang every question and, once the thread pool is full, the
    whole app with it.
    """
    import httpx

    session = getattr(getattr(client, "_server", None), "_session", None)
    if session is None:
        return False
    session.timeout = httpx.Timeout(seconds, connect=CONNECT_TIMEOUT_S)
    return True


def forget_client(folder: Path) -> None:
    """Drop chromadb's cached client of the embedded store in ``folder``.

    chromadb keeps one client per path for the life of the process, broken or not, so a
    store whose files were replaced or damaged could never be opened afresh otherwise.
    """
    from chromadb.api.shared_system_client import SharedSystemClient

    SharedSystemClient._identifier_to_system.pop(str(folder), None)


def overrides_as_markers() -> None:
    """Before chromadb's first import, make its ``@override`` decorators the markers they
    are at run time, without the checks they run at import (issue 15: a tenth of an
    ``assistant ask``).

    chromadb marks about 160 methods with the ``overrides`` package, which checks each one
    while its class is being defined: it disassembles the class body's bytecode to find
    the base classes and compares the two signatures. That took 0.13 s of every start
    (docs/performance.md, "Cold start"), and it changes nothing at run time: the decorator
    returns the method as it was. The checks help chromadb's own authors, who run them in
    their tests. Python's standard marker for the same thing, ``typing.override`` (PEP 698,
    Python 3.12), sets ``__override__`` and checks nothing, leaving checks to type
    checkers; this puts a module of such markers where ``import overrides`` finds it.

    It does nothing once ``overrides`` or chromadb has been imported (a test process that
    imported chromadb itself keeps the checking decorators), and it changes only what a
    process imports afterwards: every chromadb class is then defined the same way.
    """
    if "overrides" in sys.modules or "chromadb" in sys.modules:
        return
    markers = types.ModuleType("overrides", "override markers without import-time checks")
    markers.override = markers.overrides = _override  # type: ignore[attr-defined]
    markers.final = final  # type: ignore[attr-defined]
    markers.EnforceOverrides = _EnforceOverrides  # type: ignore[attr-defined]
    sys.modules["overrides"] = markers


def _override(method: _F | None = None, **_checks: bool) -> Any:
    """``@override`` and ``@override(check_signature=False)``, as ``typing.override``:
    the method marked and returned."""
    if method is None:
        return _override
    try:
        method.__override__ = True  # type: ignore[attr-defined]
    except (AttributeError, TypeError):  # as typing.override: some objects take no attributes
        pass
    return method


class _EnforceOverrides:
    """A base class for ``overrides.EnforceOverrides``, whose metaclass checks at class
    definition that overriding methods are marked; nothing at run time."""
