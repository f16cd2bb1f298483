"""Verify a service's log against its hash chain, without the key.

Two checks, over the stored bytes in notification order:
- each event against the link recorded when it was published (its chain hash, computed from
  the previous link), which names the first position that no longer matches and why;
- the chain recomputed from the first event against every checkpoint (the service's own and
  any the auditor kept elsewhere), which also catches a log whose links were rewritten to fit.

A third check, when the log carries signed Merkle checkpoints (issue 16): the tree over the
published events as they now stand must have, at each signed size, the root the note signs
(and the note's signature must verify with the key stored beside it).

Why a position breaks is told by where its events went: the event chained at a position may
now sit elsewhere (found by re-hashing every stored event at that position), and the event now
at the position may have been chained elsewhere (found by re-hashing it at every link):
both → reordered; only the first → an event was inserted before it; only the second → an
event was deleted before it; neither → altered in place.
"""

from dataclasses import dataclass, field

from eventsourcing.persistence import Notification

from kernel import merkle
from kernel.chain import GENESIS, event_bytes, link
from kernel.merkle import ProofError
from kernel.note import open_checkpoint


@dataclass
class Break:
    position: int
    kind: str  # altered | deleted | reordered | inserted | checkpoint | signed
    detail: str


@dataclass
class Verdict:
    service: str
    events: int = 0
    chained_to: int = 0
    unpublished: int = 0
    checkpoints_checked: int = 0
    signed_checked: int = 0
    breaks: list = field(default_factory=list)  # in position order; the first is classified

    @property
    def ok(self):
        return not self.breaks

    def lines(self):
        head = (
            f"{self.service}: {self.events} events, chained to position {self.chained_to}, "
            f"{self.checkpoints_checked} checkpoints checked"
        )
        if self.signed_checked:
            head += f", {self.signed_checked} signed checkpoints checked"
        if self.unpublished:
            head += f", {self.unpublished} recorded after the last link (not yet published)"
        if self.ok:
            return [head, f"{self.service}: OK"]
        first = self.breaks[0]
        lines = [
            head,
            f"{self.service}: BROKEN at position {first.position}: {first.kind}: {first.detail}",
        ]
        if len(self.breaks) > 1:
            shown = ", ".join(f"{b.position} ({b.kind})" for b in self.breaks[1:11])
            more = f" and {len(self.breaks) - 11} more" if len(self.breaks) > 11 else ""
            lines.append(f"{self.service}: {len(self.breaks) - 1} further breaks: {shown}{more}")
        return lines


def at(position, notification):
    """The same stored event as if it stood at ``position``."""
    return Notification(
        id=position,
        originator_id=notification.originator_id,
        originator_version=notification.originator_version,
        topic=notification.topic,
        state=notification.state,
    )


def verify(log, kept_checkpoints=(), progress=None):
    """Check ``log`` (a StoreLog or ExportLog) and return its Verdict. ``kept_checkpoints`` are
    checkpoints the auditor holds from elsewhere (the audit API, an earlier export)."""
    verdict = Verdict(log.service)
    checkpoints = _checkpoints(log.checkpoints(), kept_checkpoints, verdict)
    chain = GENESIS  # recomputed over the events as they now stand
    previous_link = GENESIS  # as recorded: each event is checked against its own link alone
    unlinked = []  # events with no link yet; inserted if a link follows them
    mismatch = None
    done = 0
    tree = merkle.CompactRange()  # over the published events as they now stand
    signed = sorted(log.signed(), key=lambda item: item["tree_size"])

    def check_signed(position):
        while signed and signed[0]["tree_size"] <= tree.size:
            item = signed.pop(0)
            verdict.signed_checked += 1
            try:
                checkpoint = open_checkpoint(item["note"], [item["verifier_key"]])
            except (ProofError, ValueError) as bad:
                verdict.breaks.append(
                    Break(
                        position,
                        "signed",
                        f"the signed checkpoint of "
                        f"{item['tree_size']} leaves does not verify: {bad}",
                    )
                )
                continue
            if checkpoint.tree_size != item["tree_size"] or checkpoint.root_hash != tree.root():
                verdict.breaks.append(
                    Break(
                        position,
                        "signed",
                        (
                            f"the Merkle tree of the first {tree.size} published events is not the one the "
                            f"checkpoint signed at that size ({item.get('recorded_at', '')})"
                        ),
                    )
                )

    def check_checkpoints(upto):
        while checkpoints and checkpoints[0]["position"] <= upto:
            checkpoint = checkpoints.pop(0)
            verdict.checkpoints_checked += 1
            if checkpoint["hash"] != chain:
                verdict.breaks.append(
                    Break(
                        checkpoint["position"],
                        "checkpoint",
                        (
                            f"the chain recomputed from the log does not reach the hash of the checkpoint "
                            f"at {checkpoint['position']} ({checkpoint.get('recorded_at', 'kept elsewhere')})"
                        ),
                    )
                )

    def on_link(position, recorded, notification):
        nonlocal previous_link, mismatch
        for inserted in unlinked:
            verdict.breaks.append(
                Break(
                    inserted,
                    "inserted",
                    (f"the event at {inserted} was never chained, yet the chain goes on after it"),
                )
            )
        unlinked.clear()
        if notification is None:
            verdict.breaks.append(
                Break(
                    position,
                    "deleted",
                    (f"the event chained at {position} is missing from the log"),
                )
            )
        elif link(previous_link, notification) != recorded:
            verdict.breaks.append(Break(position, "altered", "the event does not match its link"))
            mismatch = mismatch or (position, previous_link, recorded, notification)
        previous_link = recorded
        verdict.chained_to = position

    for batch in log.batches():
        links = dict(log.links(done, batch[-1].id))
        done = batch[-1].id
        stored = {n.id: n for n in batch}
        for position in sorted(stored.keys() | links.keys()):
            notification = stored.get(position)
            if notification is not None:
                chain = link(chain, notification)
                verdict.events += 1
            recorded = links.get(position)
            if recorded is not None:
                on_link(position, recorded, notification)
                if notification is not None:
                    tree.push(merkle.leaf_hash(event_bytes(notification)))
                    check_signed(position)
            else:
                unlinked.append(position)
            check_checkpoints(position)
        if progress:
            progress(len(batch))
    for position, recorded in log.links(done):  # chained, and gone from the end of the log
        on_link(position, recorded, None)
    check_checkpoints(float("inf"))
    for item in signed:  # sizes beyond the published events still there
        verdict.signed_checked += 1
        verdict.breaks.append(
            Break(
                verdict.chained_to,
                "signed",
                (
                    f"a checkpoint signed {item['tree_size']} leaves; {tree.size} published events are left"
                ),
            )
        )
    verdict.unpublished = len(unlinked)
    verdict.breaks.sort(key=lambda b: b.position)
    if mismatch and verdict.breaks[0].position == mismatch[0]:
        verdict.breaks[0] = classify(log, *mismatch)
    return verdict


def _checkpoints(stored, kept, verdict):
    """The checkpoints to check, by position; a kept one that disagrees with the stored one at
    the same position is itself a break (the stored checkpoint was rewritten)."""
    by_position = {c["position"]: c for c in stored}
    for checkpoint in kept:
        mine = by_position.get(checkpoint["position"])
        if mine and mine["hash"] != checkpoint["hash"]:
            verdict.breaks.append(
                Break(
                    checkpoint["position"],
                    "checkpoint",
                    (
                        f"the stored checkpoint at {checkpoint['position']} differs from the one kept elsewhere"
                    ),
                )
            )
        by_position[checkpoint["position"]] = checkpoint
    return [by_position[p] for p in sorted(by_position)]


def classify(log, position, previous_link, recorded, notification):
    """Why the event at ``position`` fails its link (see the module's docstring)."""
    moved_to = next(
        (
            n.id
            for batch in log.batches()
            for n in batch
            if n.id != position and link(previous_link, at(position, n)) == recorded
        ),
        None,
    )
    chained_at, before = None, GENESIS
    for other, hash_ in log.links():
        if other != position and link(before, at(other, notification)) == hash_:
            chained_at = other
            break
        before = hash_
    if moved_to and chained_at:
        return Break(
            position,
            "reordered",
            (
                f"the event chained at {position} is now at {moved_to}; the one now at {position} "
                f"was chained at {chained_at}"
            ),
        )
    if moved_to:
        return Break(
            position,
            "inserted",
            (
                f"an event never chained stands at {position}; the one chained there moved to {moved_to}"
            ),
        )
    if chained_at:
        return Break(
            position,
            "deleted",
            (
                f"the event chained at {position} is gone; the one now there was chained at {chained_at}"
            ),
        )
    return Break(
        position,
        "altered",
        (
            f"the event at {position} is not the one chained there: its stored state, topic, "
            "originator or version was changed"
        ),
    )
