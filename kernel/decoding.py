"""The events a service process decoded last, shared by its outbox and its projections.

Both read the same new notifications moments apart, and decoding one (decrypt, decompress, JSON,
the event's class) costs about as much as publishing it: with this each is decoded once. Domain
events are immutable, so sharing one object is safe.

``DecodedAhead``: far behind its log (a build from scratch), a projection has the events read and
decoded in a second process instead, pipelined with applying them.
"""

import multiprocessing
import pickle
import time
from collections import OrderedDict

from kernel import personal


class RecentlyDecoded:
    def __init__(self, mapper, size=5000):
        self.mapper, self.size = mapper, size
        self._events = OrderedDict()

    def __call__(self, notification):
        # A committed position is never reused; the originator and version make the key certain.
        key = (notification.id, notification.originator_id, notification.originator_version)
        event = self._events.get(key)
        if event is None:
            event = self._events[key] = self.mapper.to_domain_event(notification)
            if len(self._events) > self.size:
                self._events.popitem(last=False)
        return event


class DecodedAhead:
    """A long stretch of the log (a build from scratch, a restart far behind) read and decoded in
    a second process while this one applies it: reading, opening the personal fields and decoding
    cost a third of a build in one process, and receiving decoded events (unpickling) about
    half of that (measured: a cold build 15% faster on two idle cores). The worker runs at most a
    batch or two ahead (the pipe's buffer holds it back), reads only up to ``stop`` and ends with
    an empty batch. A worker that cannot start or fails midway gives ``None``: the caller decodes
    the rest itself, so an event that cannot be decoded stops the projection at that event as
    before. So does a worker that falls behind: waiting for a batch longer than the caller took
    to apply the last one means it has no core to itself (a busy machine, where two processes
    cost more than one: the pickling is extra work), and the caller is better off alone."""

    def __init__(self, declaration, settings, start, stop, size):
        context = multiprocessing.get_context("spawn")  # a fresh interpreter: no eventlet hub
        self._received, sent = context.Pipe(duplex=False)
        self._process = context.Process(
            target=_decode,
            args=(declaration, settings, start, stop, size, sent),
            daemon=True,
            name=f"decode {declaration.name}",
        )
        self._process.start()
        sent.close()  # the worker's end: a worker that dies is seen as the end of the pipe
        self._returned = None  # when the last batch was handed over (None: none yet)

    def next(self):
        """The next batch ``[(position, event), ...]``, ``[]`` once the stretch is done, ``None``
        if the worker failed or fell behind (closed: the caller goes on alone)."""
        if self._received.closed:
            return None
        asked = time.perf_counter()
        try:
            data = self._received.recv_bytes()
        except (EOFError, OSError):
            return None
        received = time.perf_counter()
        if self._returned is not None and self._behind(received - asked, asked - self._returned):
            self.close()  # this batch is here: the caller applies it, then goes on alone
        self._returned = received
        try:
            return pickle.loads(data)
        except pickle.UnpicklingError:
            return None

    @staticmethod
    def _behind(waited, applying):
        """Whether the worker is behind: the caller waited longer than it took to apply."""
        return waited > applying

    def close(self):
        if self._received.closed:
            return
        self._received.close()
        self._process.join(timeout=5)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join()


def _decode(declaration, settings, start, stop, size, sent):
    application = declaration.open(settings)
    try:
        position = start
        while position < stop:
            notifications = application.recorder.select_notifications(
                start=position + 1, limit=size, stop=stop
            )
            if not notifications:
                break
            personal.prefetch(application.mapper, notifications)
            decoded = [(n.id, application.mapper.to_domain_event(n)) for n in notifications]
            sent.send_bytes(pickle.dumps(decoded, protocol=pickle.HIGHEST_PROTOCOL))
            position = notifications[-1].id
        sent.send_bytes(pickle.dumps([]))
    except (BrokenPipeError, EOFError):
        pass  # the caller stopped reading (done, or gone)
    finally:
        application.close()
        sent.close()
