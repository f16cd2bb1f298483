"""The events a service process decoded or saved last, shared by its outbox and its projections.

Both read the same new notifications moments apart, and decoding one (decrypt, decompress, JSON,
the event's class) costs about as much as publishing it: with this each is decoded once, and
one this process saved itself not at all. Domain events are immutable, so sharing one object is
safe.

``DecodedAhead``: far behind its log (a build from scratch), a projection has the events read and
decoded in a second process instead, pipelined with applying them.
"""

import contextlib
import copyreg
import decimal
import fcntl
import gc
import io
import logging
import multiprocessing
import pickle
import queue
import threading
import time
import uuid
from collections import OrderedDict
from datetime import datetime

from kernel import personal
from kernel.projection import event_name

PIPE_BYTES = 1 << 20  # Linux's default most for a pipe (/proc/sys/fs/pipe-max-size)
log = logging.getLogger("kjfp.decoding")
WINDOW = 5  # batches over which a worker's cost is weighed against what it saves


class RecentlyDecoded:
    def __init__(self, mapper, size=5000):
        self.mapper, self.size = mapper, size
        self._events = OrderedDict()

    def __call__(self, notification):
        key = _key(notification)
        event = self._events.get(key)
        if event is None:
            event = self._keep(key, self.mapper.to_domain_event(notification))
        return event

    def remember(self, recordings):
        """The events this process has just saved, as it made them: the outbox and the
        projections read them back moments later and need not decode them (a bulk import's
        events: decrypting, opening the personal fields and decoding them cost a tenth of an
        upload). Only an event whose every value comes back alike from the store: one holding a
        tuple (stored as a list) is decoded when read, as before."""
        for recording in recordings:
            event, notification = recording.domain_event, recording.notification
            if _comes_back_alike(vars(event)):
                self._keep(_key(notification), event)

    def _keep(self, key, event):
        self._events[key] = event
        if len(self._events) > self.size:
            self._events.popitem(last=False)
        return event


def _key(notification):
    # A committed position is never reused; the originator and version make the key certain.
    return (notification.id, notification.originator_id, notification.originator_version)


# What the event store's JSON transcoder gives back as it was given: JSON's own types, and those
# the application registers a transcoding for (eventsourcing's Application: UUID, Decimal,
# datetime). ``type(...) in`` rather than isinstance: a subclass (a str enum) comes back as its base.
_SCALARS = frozenset((str, int, float, bool, type(None), uuid.UUID, decimal.Decimal, datetime))


def _comes_back_alike(value):
    kind = type(value)
    if kind in _SCALARS:
        return True
    if kind is dict:
        return all(type(k) is str and _comes_back_alike(v) for k, v in value.items())
    if kind is list:
        return all(_comes_back_alike(v) for v in value)
    return False


class DecodedAhead:
    """A long stretch of the log (a build from scratch, a restart far behind) read and decoded in
    a second process while this one applies it: reading, opening the personal fields and decoding
    cost a third of a build in one process, and receiving decoded events (unpickling) about
    half of that (measured: a cold build 15% faster on two idle cores). The worker runs at most
    three batches ahead (one in the pipe, one queued for its sending thread, one being decoded),
    reads only up to ``stop`` and ends with an empty batch. A worker that cannot start or fails
    midway gives ``None``: the caller decodes the rest itself, so an event that cannot be decoded
    stops the projection at that event as before. So does a worker that costs more than it
    saves: when taking its last ``WINDOW`` batches (waiting for them, receiving and unpickling
    them) cost the caller more time than decoding them did the worker (its CPU time: what the
    caller would have spent), it has no core to itself (a busy machine, where two processes cost
    more than one: the pickling is extra work), and the caller is better off alone. A worker
    merely slower than the caller applies, with a core of its own, still saves the decoding; a
    single slow batch (a read from disk) does not end it."""

    def __init__(self, declaration, settings, start, stop, size, reads=None):
        context = multiprocessing.get_context("spawn")  # a fresh interpreter: no eventlet hub
        self._received, sent = context.Pipe(duplex=False)
        with contextlib.suppress(OSError, AttributeError):  # Linux: a batch in a few reads
            fcntl.fcntl(self._received.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)
        self._process = context.Process(
            target=_decode,
            args=(declaration, settings, start, stop, size, reads, sent),
            daemon=True,
            name=f"decode {declaration.name}",
        )
        self._process.start()
        sent.close()  # the worker's end: a worker that dies is seen as the end of the pipe
        # (seconds the caller spent taking a batch, the worker's CPU seconds decoding it), from
        # the second batch on (the first waited for the worker to start)
        self._costs: list[tuple[float, float]] = []
        self._first = True

    def next(self):
        """The next batch ``[(position, event), ...]`` (the event None where its name is not in
        ``reads``: left undecoded), ``[]`` once the stretch is done, ``None``
        if the worker failed or cost more than it saved (closed: the caller goes on alone)."""
        if self._received.closed:
            return None
        asked = time.perf_counter()
        try:
            decoding, events = pickle.loads(self._received.recv_bytes())
        except (EOFError, OSError, pickle.UnpicklingError):
            return None
        if self._first:
            self._first = False
        elif events:
            self._costs.append((time.perf_counter() - asked, decoding))
            if self._behind(self._costs):
                log.info(
                    "decoding ahead: the second process cost more than it saved (no core of its "
                    "own?); decoding in this process from position %s on",
                    events[-1][0] + 1,
                )
                self.close()  # this batch is here: the caller applies it, then goes on alone
        return events

    @staticmethod
    def _behind(costs):
        """Whether taking the last ``WINDOW`` batches cost more than decoding them."""
        recent = costs[-WINDOW:]
        return len(recent) == WINDOW and sum(t for t, _ in recent) > sum(d for _, d in recent)

    def close(self):
        if self._received.closed:
            return
        self._received.close()
        self._process.join(timeout=5)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join()


def _decode(declaration, settings, start, stop, size, reads, sent):
    # Decoding makes only short-lived objects without cycles, freed by reference counting; the
    # cyclic collector's passes over them cost this process a fifth of its time (measured).
    gc.disable()
    # Handing a batch over (a few MB through the pipe) waits for the caller to read it: a thread
    # sends while the next batch is decoded (the queue holds one more, no further ahead).
    batches: queue.Queue = queue.Queue(maxsize=1)
    sender = threading.Thread(target=_send, args=(batches, sent), daemon=True)
    sender.start()
    application = declaration.open(settings)
    try:
        position = start
        while position < stop and sender.is_alive():
            began = time.thread_time()  # this thread's CPU: what the caller would spend instead
            notifications = application.recorder.select_notifications(
                start=position + 1, limit=size, stop=stop
            )
            if not notifications:
                break
            read = [n for n in notifications if reads is None or event_name(n.topic) in reads]
            personal.prefetch(application.mapper, read)
            events = {n.id: application.mapper.to_domain_event(n) for n in read}
            decoded = [(n.id, events.get(n.id)) for n in notifications]
            _put(batches, sender, _dumps((time.thread_time() - began, decoded)))
            position = notifications[-1].id
        _put(batches, sender, _dumps((0.0, [])))
        _put(batches, sender, None)
        sender.join()
    finally:
        application.close()
        sent.close()


def _put(batches, sender, data):
    while sender.is_alive():  # a sender gone (the caller stopped reading) takes nothing more
        try:
            batches.put(data, timeout=0.5)
            return
        except queue.Full:
            continue


def _send(batches, sent):
    try:
        while (data := batches.get()) is not None:
            sent.send_bytes(data)
    except (BrokenPipeError, EOFError, OSError):
        pass  # the caller stopped reading (done, or gone)


# Every event holds a UUID, which pickles through its __getstate__/__setstate__ (an enum read on
# each side): as its integer, and made again from it directly, a batch loads a tenth faster.
_PICKLING = copyreg.dispatch_table.copy()
_PICKLING[uuid.UUID] = lambda value: (_uuid, (value.int,))
_UNKNOWN = uuid.SafeUUID.unknown


def _uuid(number):
    value = object.__new__(uuid.UUID)
    object.__setattr__(value, "int", number)
    object.__setattr__(value, "is_safe", _UNKNOWN)
    return value


def _dumps(batch):
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = _PICKLING
    pickler.dump(batch)
    return buffer.getvalue()
