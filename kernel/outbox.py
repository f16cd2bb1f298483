"""Transactional outbox: publish a service's recorded events on the bus, in log order.

The event store is the outbox. The publisher reads notifications after the chain head,
extends the hash chain over them, publishes each as a nameko event named by its public name
(a batch through one producer, kernel/bus.py), then advances the head, appends the batch to the
log's Merkle tree and signs a checkpoint of it (kernel/tree.py). A crash after dispatch and
before the advance re-publishes the same events with the same chain hashes (at-least-once;
consumers dedup by service and position).
"""

import eventlet.semaphore

from kernel import personal
from kernel.chain import ChainLedger, event_bytes, link
from kernel.concurrency import pause
from kernel.config import Settings
from kernel.pii import mask_fields
from kernel.projection import event_name
from kernel.tree import LogTree, checkpoint_signer, leaf


def public_name(domain_event):
    return type(domain_event).__name__


def payload_of(domain_event):
    return {
        k: v
        for k, v in domain_event.__dict__.items()
        if k not in ("originator_id", "originator_version", "timestamp")
    }


def envelope(service, notification, domain_event, chain_hash, personal_fields):
    return {
        "service": service,
        "position": notification.id,
        "originator_id": str(notification.originator_id),
        "version": notification.originator_version,
        "type": public_name(domain_event),
        "occurred_at": domain_event.timestamp.isoformat(),
        "payload": mask_fields(payload_of(domain_event), personal_fields),
        "chain_hash": chain_hash,
    }


class Outbox:
    def __init__(
        self, service, application, personal_fields, batch_size=500, signer=None, decode=None
    ):
        """``signer`` signs the checkpoints (default: the development key, embedded mode);
        ``decode`` as the projections' (kernel.projection.ProjectionRunner)."""
        self.service = service
        self.application = application
        self.decode = decode or application.mapper.to_domain_event
        self.personal_fields = frozenset(personal_fields)
        self.batch_size = batch_size
        self.ledger = ChainLedger(application.recorder, service)
        self.tree = LogTree(self.ledger, signer or checkpoint_signer(Settings(), service))
        self._lock = eventlet.semaphore.Semaphore()

    def read(self, after, limit, previous_hash=None):
        """Envelopes after ``after`` (chain hashes computed from ``previous_hash``)."""
        return self._read(after, limit, previous_hash)[0]

    def _read(self, after, limit, previous_hash, hears=None, stop=None):
        """The envelopes after ``after``, every event's chain link and Merkle leaf (its bytes
        made once for both). ``hears(names)``: the event names among ``names`` anyone would
        receive; an event no one hears gets no envelope (decoding it is left to the
        projections, if any projects it). None after position ``stop``, if given."""
        notifications = self.application.recorder.select_notifications(
            start=after + 1, limit=limit, stop=stop
        )
        if previous_hash is None:
            previous_hash = self._hash_at(after)
        heard = hears({event_name(n.topic) for n in notifications}) if hears else None
        envelopes, links, leaves = [], [], []
        personal.prefetch(self.application.mapper, notifications)
        for notification in notifications:
            data = event_bytes(notification)
            previous_hash = link(previous_hash, notification, data)
            links.append((notification.id, previous_hash))
            leaves.append(leaf(notification, data))
            if heard is not None and event_name(notification.topic) not in heard:
                continue
            domain_event = self.decode(notification)
            envelopes.append(
                envelope(
                    self.service, notification, domain_event, previous_hash, self.personal_fields
                )
            )
        return envelopes, links, leaves

    def _hash_at(self, position):
        """The chain hash at ``position``: from the head, or recomputed from the nearest
        checkpoint before it (positions may have gaps: PostgreSQL skips ids of failed inserts)."""
        head_position, head_hash = self.ledger.head()
        if position == head_position:
            return head_hash
        done, chain_hash = self.ledger.checkpoint_at_or_before(position)
        while done < position:
            batch = self.application.recorder.select_notifications(
                start=done + 1, limit=1000, stop=position
            )
            if not batch:
                break
            for notification in batch:
                chain_hash = link(chain_hash, notification)
            done = batch[-1].id
        return chain_hash

    def publish_pending(self, publish):
        """Publish everything recorded before this call and not yet published, ``publish(envelopes)``
        a batch at a time (only the events it ``hears``, if it says: kernel/bus.py); returns how
        many events went out. What is recorded meanwhile waits for the next call: the pump
        publishes, then projects, and a publication chasing a stream of single writes (between
        its batches it pauses, and writers go on) held the projections back for ~10 s."""
        with self._lock:
            stop = self.application.recorder.max_notification_id() or 0
            sent = 0
            while True:
                position, chain_hash = self.ledger.head()
                envelopes, links, leaves = self._read(
                    position, self.batch_size, chain_hash, getattr(publish, "hears", None), stop
                )
                if not links:
                    self.tree.grow((), self.application.recorder, position)  # catch up, if behind
                    return sent
                publish(envelopes)
                self.ledger.advance(links)
                self.tree.grow(leaves, self.application.recorder, position)
                sent += len(links)
                pause()  # a long backlog (after a bulk import) must not hold up every other request
