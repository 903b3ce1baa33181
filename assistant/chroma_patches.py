"""The two places where the store reaches into chromadb's private state, kept together.

chromadb offers no setting for either, so both use attributes it does not promise to
keep. ``tests/test_chroma_patches.py`` checks each one against the installed chromadb
and fails with a clear message when chromadb's version is not ``CHECKED_CHROMADB``:
after an upgrade, recheck these two functions and then update that constant.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

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
