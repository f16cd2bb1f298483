"""The auditor's replay (the code ``kjfp audit replay`` runs) over the logs a scenario test built,
against that system's live views, and what it must find after one view is edited by hand."""

from kernel import config, views
from kernel.chain import GENESIS, link
from kjfp.audit.logs import open_logs
from kjfp.audit.replay import replay_and_compare

EDIT = "edited by hand"


def stored_log(app):
    """Every stored event's state bytes as stored, and the chain hash over them."""
    notifications = app.recorder.select_notifications(start=1, limit=1000)
    chain = GENESIS
    for notification in notifications:
        chain = link(chain, notification)
    return [bytes(n.state) for n in notifications], chain


def raw_states(app):
    """Every stored event's state with the service cipher removed (what a holder of CIPHER_KEY
    sees without the person keys)."""
    return [
        app.mapper.cipher.decrypt(bytes(n.state)).decode()
        for n in app.recorder.select_notifications(start=1, limit=1000)
    ]


def replay(settings, live, services):
    logs = open_logs(settings, services)
    try:
        return {
            name: replay_and_compare(log, log.scratch(settings.cipher_key).mapper, live)
            for name, log in logs.items()
        }
    finally:
        for log in logs.values():
            log.close()


def assert_replay_equals_views_and_catches_a_hand_edit(settings, live, services, collection):
    """No difference; then one field of one ``collection`` document edited → exactly that line."""
    before = replay(settings, live, services)
    assert all(not c.differences for c in before.values()), [c.lines() for c in before.values()]
    owner = before[collection.split("_")[0]]  # collections are named after their service
    assert all(position > 0 for position in owner.positions.values()), owner.lines()

    doc = live[collection].find_one({}, sort=[("_id", 1)])
    field = sorted(k for k in doc if k not in ("_id", "positions"))[0]
    live[collection].update_one({"_id": doc["_id"]}, {"$set": {field: EDIT}})
    try:
        after = replay(settings, live, services)
    finally:
        live[collection].update_one({"_id": doc["_id"]}, {"$set": {field: doc[field]}})
    assert [line for c in after.values() for line in c.differences] == [
        f"{collection} {doc['_id']}: {field}: live {EDIT!r}, replayed {doc[field]!r}"
    ]


def embedded_parts(service_runner):
    """The settings and live views of an embedded system started by ``start_system``."""
    settings = service_runner.config[config.SETTINGS_KEY]
    return settings, views.connect(settings)
