"""``kjfp projections``: every projection's position, lag and state, read from the stores the
environment names (the data directory's, embedded), without starting any service."""

from kernel import views
from kernel.projection import TRACKING, describe
from kjfp.audit.logs import StoreLog
from kjfp.bootstrap import declarations


def projections(settings):
    """One row per projection: service, projection, position, head, lag, state, error."""
    store = views.connect(settings)
    rows = []
    try:
        for name, service_log in declarations().items():
            try:
                log = StoreLog(settings, service_log)
            except FileNotFoundError:
                head = None
            else:
                head = log.last_position()
                log.recorder.datastore.close()
            for projection in service_log.projections:
                tracking = store[TRACKING].find_one({"_id": projection.name}) or {}
                position = tracking.get("position", 0)
                rows.append(
                    {
                        "service": name,
                        "projection": projection.name,
                        "position": position,
                        "head": head,
                        "lag": None if head is None else head - position,
                        "state": tracking.get("state")
                        or ("running" if tracking else "not started"),
                        "error": tracking.get("error"),
                    }
                )
    finally:
        if settings.mongo_uri:
            store.client.close()
    return rows


def table(rows):
    lines = [f"{'service':<12} {'projection':<24} {'position':>9} {'head':>9} {'lag':>8}  state"]
    for row in rows:
        head = "-" if row["head"] is None else row["head"]
        lag = "-" if row["lag"] is None else row["lag"]
        state = row["state"]
        if row["error"] and state == "stopped":
            state += f": {describe(row['error'])}"
        lines.append(
            f"{row['service']:<12} {row['projection']:<24} {row['position']:>9} {head:>9} {lag:>8}"
            f"  {state}"
        )
    return "\n".join(lines)
