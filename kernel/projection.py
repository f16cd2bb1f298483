"""Pull-based projection runner: catch a view up with a service's notification log.

It reads notifications after its tracking position, lets the projection write idempotent
upserts keyed by natural keys, then records the new tracking position. A crash between the
two writes makes the next run re-apply the same events, which rewrites the same documents:
no double count. Driven by explicit pulls (a timer, or a read that wants fresh figures),
because eventsourcing's subscribe() runners break under eventlet.
"""
import eventlet.semaphore
from pymongo.errors import DuplicateKeyError

TRACKING = "tracking"


class ProjectionRunner:
    def __init__(self, application, views, projection, batch_size=1000):
        self.application = application
        self.views = views
        self.projection = projection
        self.batch_size = batch_size
        self._lock = eventlet.semaphore.Semaphore()

    @property
    def name(self):
        return self.projection.name

    def position(self):
        doc = self.views[TRACKING].find_one({"_id": self.name})
        return doc["position"] if doc else 0

    def run(self, stop=None):
        """Process everything up to ``stop`` (default: the log's end); return the position."""
        with self._lock:
            return self._catch_up(stop)

    def _catch_up(self, stop):
        position = self.position()
        recorder = self.application.recorder
        while stop is None or position < stop:
            notifications = recorder.select_notifications(start=position + 1, limit=self.batch_size, stop=stop)
            if not notifications:
                break
            events = [(n.id, self.application.mapper.to_domain_event(n)) for n in notifications]
            self.projection.apply(self.views, events)
            position = notifications[-1].id
            self._track(position)
        return position

    def _track(self, position):
        # Conditional, so that a slower replica never moves the tracking position back: when the
        # stored position is already further, the upsert collides with the existing document.
        try:
            self.views[TRACKING].update_one({"_id": self.name, "position": {"$lt": position}},
                                            {"$set": {"position": position}}, upsert=True)
        except DuplicateKeyError:
            pass

    def read(self, query):
        """Catch up, then run ``query(views)`` before anything else in this process moves the
        views on, so that the position reported is the one the answer was computed at."""
        with self._lock:
            position = self._catch_up(None)
            return position, query(self.views)

    def rebuild(self):
        """Drop the views and replay the whole log into them."""
        with self._lock:
            self.projection.drop(self.views)
            self.views[TRACKING].delete_one({"_id": self.name})
        return self.run()


class Projection:
    """A projection's shape: ``on_<EventName>(position, event)`` handlers yield ``(collection,
    write)`` pairs; a batch of events becomes one ordered bulk write per collection."""

    name = ""
    collections = ()

    def apply(self, views, events):
        writes = {name: [] for name in self.collections}
        for position, e in events:
            handler = getattr(self, "on_" + type(e).__name__, None)
            if handler:
                for collection, op in handler(position, e):
                    writes[collection].append(op)
        for collection, ops in writes.items():
            if ops:
                views[collection].bulk_write(ops, ordered=True)

    def drop(self, views):
        for name in self.collections:
            views[name].drop()
