"""The events a service process decoded last, shared by its outbox and its projections.

Both read the same new notifications moments apart, and decoding one (decrypt, decompress, JSON,
the event's class) costs about as much as publishing it: with this each is decoded once. Domain
events are immutable, so sharing one object is safe.
"""

from collections import OrderedDict


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
