"""A new process's start, shorter: the model loads while the rest is imported, and the
garbage collector stays out of the imports.

Two costs of a start are not the work itself (issue 15; docs/performance.md, "Cold start"):

- Python's cyclic garbage collector walks every object that can hold references each
  time enough new ones were made. Importing chromadb, pydantic, numpy and the rest makes
  hundreds of thousands of them, all kept for the life of the process, so the collector
  walks a growing heap over and over while finding nothing to free (about 0.17 s of a
  1.8 s ``assistant ask``), and once more at exit (about 0.2 s). ``collector_paused``
  keeps it off while a start imports and opens the index, then moves what exists out
  of its sight (``gc.freeze``) and turns it back on: the pattern the ``gc`` module's
  documentation gives for long-lived start-up objects. Later collections, for the life
  of a web app too, no longer walk the modules' objects.
- Opening the ONNX model (reading 90 MB of weights, planning the graph: about 0.2 s) is
  onnxruntime's native code, which releases the GIL; ``in_background`` runs it on a
  thread while the main thread imports chromadb (about 0.6 s), so when a core is free
  the model is ready when the store is (``Assistant.opened``).
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

_T = TypeVar("_T")
_P = ParamSpec("_P")


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off inside the block; every object there is at its
    end (modules, classes, an opened store) frozen, out of later collections.

    Only for a process's own start, at its entry point (``assistant ask``, ``serve``, a
    web worker), over its imports and opening: whatever is garbage when the block ends
    is kept until the process ends, so neither a library call (a test's process holds
    earlier tests' garbage) nor bulk work (indexing a first start's articles makes
    garbage cycles as it goes) belongs inside. Nested blocks are fine: the collector is
    back on when the outermost one ends, if it was on before.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


@contextmanager
def in_background(
    function: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs
) -> Iterator[Future[_T]]:
    """``function(*args, **kwargs)`` started on a thread of its own for the block, which
    does other work meanwhile and takes the value (or the exception) with ``.result()``.

    The block ends only when the thread has: an error in the block never leaves the
    function running while the process exits.
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="startup") as pool:
        yield pool.submit(function, *args, **kwargs)
