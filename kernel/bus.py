"""Publishing the outbox's batches as nameko events.

nameko's ``EventDispatcher`` takes a producer from the pool, and builds a kombu connection to
find it, for every event: after a bulk import that was a third of the import's time. This
dispatcher publishes a whole batch through one producer, each event still its own message —
the same exchange, routing key (the public event name), headers, serializer, delivery mode and
publisher confirms as ``dispatch(type, payload)`` — so every ``@event_handler`` receives what it
always did.

Embedded, the bus is kombu's in-memory transport inside this process: an event no queue is bound
for would be dropped on arrival, so it is not serialised and sent at all (a handler started in
the process binds its queue, and from then on its events are sent); the outbox asks ``hears``
first and makes envelopes only for the events heard. A broker's bindings are the broker's to
know: on RabbitMQ every event is sent.
"""

from kombu.transport import memory
from nameko.amqp.publish import get_producer
from nameko.events import EventDispatcher

from kernel.acting import ACTOR


def _unheard(channel, exchange, routing_key):
    if not isinstance(channel, memory.Channel):
        return False
    try:
        table = channel.get_table(exchange.name)
    except KeyError:  # never declared, so nothing is bound to it
        return True
    return not channel.typeof(exchange.name).lookup(table, exchange.name, routing_key, None)


class BatchDispatcher(EventDispatcher):
    def get_dependency(self, worker_ctx):
        # The outbox publishes as the service, whichever call made it publish (a figure read
        # publishes what the pump has not yet): the actor of that call is not the events'.
        headers = {
            name: value
            for name, value in self.get_message_headers(worker_ctx).items()
            if name != self._get_header_name(ACTOR)
        }
        publisher = self.publisher
        options = dict(publisher.publish_kwargs)
        headers = {**options.pop("headers", {}), **headers}
        options.pop("exchange", None)

        def connect():
            return get_producer(
                publisher.amqp_uri,
                publisher.use_confirms,
                publisher.ssl,
                publisher.login_method,
                dict(publisher.transport_options),
            )

        def hears(names):
            """The event names among ``names`` that anyone would receive (all, on a broker)."""
            with connect() as found:
                return {name for name in names if not _unheard(found.channel, self.exchange, name)}

        def publish(envelopes):
            if not envelopes:
                return
            with connect() as producer:
                declare = publisher.declare
                for envelope in envelopes:
                    if _unheard(producer.channel, self.exchange, envelope["type"]):
                        continue
                    producer.publish(
                        envelope,
                        exchange=self.exchange,
                        routing_key=envelope["type"],
                        headers=headers,
                        delivery_mode=publisher.delivery_mode,
                        mandatory=publisher.mandatory,
                        priority=publisher.priority,
                        expiration=publisher.expiration,
                        compression=publisher.compression,
                        serializer=publisher.serializer,
                        retry=publisher.retry,
                        retry_policy=publisher.retry_policy,
                        declare=declare,
                        **options,
                    )
                    declare = ()  # once a batch: kombu would look it up in its cache every time

        publish.hears = hears  # type: ignore[attr-defined]  # the outbox makes no envelope for the others
        return publish
