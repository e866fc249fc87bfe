"""Reading ahead: a helper thread takes the next item of an iterator while the caller works.

For readers that release the GIL while they parse (Arrow's CSV reader): the engine works on
one block while the next is parsed on the other core, instead of waiting for each in turn.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Generator, Iterator
from typing import Any, TypeVar

T = TypeVar("T")
_END = object()


def read_ahead(items: Iterator[T], depth: int = 1) -> Generator[T, None, None]:
    """Yield ``items`` in order, a helper thread reading ahead: ``depth`` items wait in a
    queue while the helper reads the next.

    An exception raised by ``items`` is raised here, at the point it was reached. When the
    caller stops early (``close()``, or an error in the caller's loop that closes it), the
    helper stops after the item it is reading and closes ``items``. Close it explicitly
    where the caller may raise: a generator left to the garbage collector is finalised on
    whatever thread collects it, which then only tells the helper to stop.
    """
    ready: queue.Queue[tuple[Any, BaseException | None]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(entry: tuple[Any, BaseException | None]) -> None:
        while not stop.is_set():
            try:
                ready.put(entry, timeout=0.05)
                return
            except queue.Full:
                continue

    def produce() -> None:
        try:
            for item in items:
                put((item, None))
                if stop.is_set():
                    break
            put((_END, None))
        except BaseException as exc:  # handed to the caller, raised there
            put((_END, exc))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    helper = threading.Thread(target=produce, name="odse-read-ahead", daemon=True)
    helper.start()
    consumer = threading.current_thread()
    try:
        while True:
            item, error = ready.get()
            if item is _END:
                if error is not None:
                    raise error
                return
            yield item
    finally:
        stop.set()
        # Only the consumer waits for the helper: a finaliser may run on the helper itself or
        # on a thread of Arrow's reader that the helper is waiting for.
        if threading.current_thread() is consumer:
            helper.join()
