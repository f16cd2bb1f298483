"""The 两数 projection: registry events → record views, membership rows and dated aggregates.

Why this shape (issue 14: a figure must not cost more as the register grows):
- Record views, one document per natural key: experts, persons (an ID-number hash and its
  registrations), associations, households, pairings, service logs, targets. Each holds the
  state its contribution is computed from (dated timelines as a JSON string in ``history``: the
  MongoDB stand-in mangles arrays of subdocuments).
- Membership rows (``registry_membership``): ``services.registry.membership`` turns an entity's
  state into rows (unit key, group, entity, from, to, people). Explain pages through them by
  (key, group, entity) — never through a register.
- Aggregates (``registry_counts``): one document per (unit key, year) holding, per metric, the
  year's total ``t_<metric>`` and each day's change ``d_<metric>_<MMDD>`` (ASCII field names).
  "As of D" is the totals of the years before plus D's year's days up to D: one indexed read of
  a handful of small documents, whatever the register's size. Rows and aggregates come from the
  same rows, so a figure and its records cannot disagree.
- The spot-check frame (``registry_frame``): each expert, association or household credited to
  a province gets the next ordinal of that province's frame when it is registered (one document
  per ordinal: the record, the positions of its registration and revocation). Ordinals follow
  the log, so the frame at a position is ordinals 1..n; a sample draws ordinals and reads those
  documents, never the province's register (``queries.frame_size``, ``queries.frame_records``).
- Per batch: the touched entities are loaded by ``_id`` (a fixed number of queries), their
  rows are computed before and after the batch's events, and only the difference is written:
  changed rows, and dated deltas folded into the touched aggregate documents as absolute values.
  An expert's revocation, however back-dated, reaches the households they paired through the
  expert's ``households`` list.
- Crash safety: deltas are not idempotent, so a batch's writes go through
  ``kernel.dated_sums.apply_once``: journaled in one document first, then applied as absolute
  writes (idempotent), with the batch's last position recorded as applied. A run first finishes
  any journal a crash left and skips events already applied, so a redelivered batch never counts
  twice; the journal is claimed by one process at a time, so two replicas never do either.
  A build from scratch into empty views skips the journal (``from_scratch``): the runner
  restarts such a build from scratch if it was cut off.
"""

import orjson
from pymongo import ASCENDING, IndexModel

from kernel import dated_sums, pii
from kernel.personal import ERASED
from kernel.projection import Projection
from services.registry import membership

EXPERTS, PERSONS, ASSOCIATIONS, HOUSEHOLDS = (
    "registry_experts",
    "registry_persons",
    "registry_associations",
    "registry_households",
)
PAIRINGS, SERVICE_LOGS, SERVICE_HOURS, TARGETS = (
    "registry_pairings",
    "registry_service_logs",
    "registry_service_hours",
    "registry_targets",
)
MEMBERSHIP, COUNTS, JOURNAL = "registry_membership", "registry_counts", "registry_journal"
FRAME = "registry_frame"
OPEN_END = "9999-12-31"  # a membership row still open (a date range query cannot match null)


def _place(location):
    location = location or {}
    return {k: location.get(k) for k in ("province", "city", "county", "township", "village")}


def row_id(row):
    key, group, entity, start, _, _ = row
    return f"{key}|{group}|{entity}|{start}"


def row_document(row_key, row):
    key, group, entity, start, end, people = row
    return {
        "_id": row_key,
        "key": key,
        "group": group,
        "entity": entity,
        "from": start,
        "to": end or OPEN_END,
        "people": people,
    }


class TwoCountsProjection(Projection):
    name = "registry.two_counts"
    version = 3  # 2: the spot-check frame; 3: a lift credited to the pairings of its day
    collections = (
        EXPERTS,
        PERSONS,
        ASSOCIATIONS,
        HOUSEHOLDS,
        PAIRINGS,
        SERVICE_LOGS,
        SERVICE_HOURS,
        TARGETS,
        MEMBERSHIP,
        COUNTS,
        FRAME,
    )
    indexes = {
        # explain pages: rows that began by a date, in the order they began
        MEMBERSHIP: [
            IndexModel(
                [
                    ("key", ASCENDING),
                    ("group", ASCENDING),
                    ("from", ASCENDING),
                    ("entity", ASCENDING),
                ]
            )
        ],
        COUNTS: dated_sums.INDEXES,
        # Listings (queries.list_experts) and the spot-check frame's size at a position.
        EXPERTS: [
            IndexModel([("position", ASCENDING)]),
            IndexModel([("unit", ASCENDING), ("position", ASCENDING)]),
        ],
        FRAME: [IndexModel([("province", ASCENDING), ("registered_position", ASCENDING)])],
        SERVICE_LOGS: [IndexModel([("expert_id", ASCENDING), ("year", ASCENDING)])],
    }

    def __init__(self):
        self._indexed = set()

    def apply(self, views, events):
        self._ensure_indexes(views)
        dated_sums.apply_once(
            views,
            JOURNAL,
            events,
            lambda fresh: _Batch(views, fresh).writes(),
            journaled=not self.from_scratch,
        )

    def drop(self, views):
        super().drop(views)
        views[JOURNAL].drop()
        self._indexed.clear()

    def _ensure_indexes(self, views):
        for name, models in self.indexes.items():
            collection = views[name]
            if name not in self._indexed and hasattr(collection, "create_indexes"):
                collection.create_indexes(models)
                self._indexed.add(name)


def _load(views, collection, keys):
    if not keys:
        return {}
    return {doc["_id"]: doc for doc in views[collection].find({"_id": {"$in": sorted(keys)}})}


def decoded(doc):
    """A record document (expert, household, association) with its history as stored (JSON
    text) read back."""
    doc = dict(doc)
    doc["history"] = orjson.loads(doc["history"])
    return doc


class _Batch:
    """One batch of events applied in memory to the entities it touches."""

    def __init__(self, views, events):
        self.views, self.events = views, events
        self.dirty = set()  # (collection, key) of record documents to write
        self.plain = []  # absolute writes that need no state (pairings, service logs, targets, frame)
        self.frame_sizes = {}  # province → its frame's last ordinal, as this batch goes
        self._load()
        before = self._rows()
        for position, e in events:
            handler = getattr(self, "on_" + type(e).__name__, None)
            if handler:
                handler(position, e)
        self.changed_rows = (before, self._rows())

    # -- loading --------------------------------------------------------------------------
    def _load(self):
        expert_ids, hashes, codes, credit_codes, hour_keys = set(), set(), set(), set(), set()
        for _, e in self.events:
            name = type(e).__name__
            if name.startswith("Expert") and name != "ExpertAgreementTaken":
                expert_ids.add(str(e.originator_id))
                if name == "ExpertRegistered":
                    hashes.add(e.id_hash)
            elif name.startswith("Household"):
                codes.add(e.code)
                if name == "HouseholdPaired":
                    expert_ids.add(e.expert_id)
            elif name.startswith("Association"):
                credit_codes.add(e.credit_code)
            elif name == "ServiceLogged":
                hour_keys.add(f"{e.expert_id}|{e.date[:4]}")
        views = self.views
        self.experts = {k: decoded(d) for k, d in _load(views, EXPERTS, expert_ids).items()}
        hashes |= {doc["id_hash"] for doc in self.experts.values()}
        self.persons = _load(views, PERSONS, hashes)
        others = {i for p in self.persons.values() for i in p["expert_ids"]} - set(self.experts)
        self.experts.update({k: decoded(d) for k, d in _load(views, EXPERTS, others).items()})
        self.person_hashes = hashes
        revoked = {
            str(e.originator_id) for _, e in self.events if type(e).__name__ == "ExpertRevoked"
        }
        codes |= {c for i in revoked if i in self.experts for c in self.experts[i]["households"]}
        self.households = {k: decoded(d) for k, d in _load(views, HOUSEHOLDS, codes).items()}
        self.associations = {
            k: decoded(d) for k, d in _load(views, ASSOCIATIONS, credit_codes).items()
        }
        self.hours = _load(views, SERVICE_HOURS, hour_keys)
        self.by_name = {
            EXPERTS: self.experts,
            PERSONS: self.persons,
            HOUSEHOLDS: self.households,
            ASSOCIATIONS: self.associations,
            SERVICE_HOURS: self.hours,
        }

    def _rows(self):
        rows = {}
        for id_hash in self.person_hashes:
            registrations = [
                self.experts[i] for i in self.persons.get(id_hash, {}).get("expert_ids", ())
            ]
            rows.update((row_id(r), r) for r in membership.person_rows(id_hash, registrations))
        for doc in self.households.values():
            if doc["history"]["pairings"]:  # never paired: no rows (most of a register)
                rows.update((row_id(r), r) for r in membership.household_rows(doc))
        for doc in self.associations.values():
            rows.update((row_id(r), r) for r in membership.association_rows(doc))
        return rows

    # -- writes ---------------------------------------------------------------------------
    def writes(self):
        """Every write of the batch, absolute: ``(collection, "set"|"replace"|"delete", key, fields)``
        (a replace's fields are the whole document, with its ``_id``: written as it stands)."""
        writes = list(self.plain)
        for collection, key in sorted(self.dirty):
            doc = self._collection(collection)[key]
            if "history" in doc:
                doc = {
                    **doc,
                    "history": orjson.dumps(doc["history"], option=orjson.OPT_SORT_KEYS).decode(),
                }
            writes.append((collection, "replace", key, doc))
        before, after = self.changed_rows
        for key in sorted(before.keys() - after.keys()):
            writes.append((MEMBERSHIP, "delete", key, None))
        for key in sorted(after):
            if before.get(key) != after[key]:
                writes.append((MEMBERSHIP, "replace", key, row_document(key, after[key])))
        writes += self._count_writes(before, after)
        return writes

    def _count_writes(self, before, after):
        changes = membership.deltas([after[k] for k in after if before.get(k) != after[k]])
        for slot, change in membership.deltas(
            [before[k] for k in before if after.get(k) != before[k]], -1
        ).items():
            changes[slot] = changes.get(slot, 0) + change
        return dated_sums.folded(self.views, COUNTS, changes)

    def _collection(self, name):
        return self.by_name[name]

    def _touch(self, collection, key, position=None):
        doc = self._collection(collection)[key]
        if position is not None and position not in doc["positions"]:
            doc["positions"] = sorted([*doc["positions"], position])
        self.dirty.add((collection, key))
        return doc

    # -- the spot-check frame -------------------------------------------------------------
    def _enter_frame(self, doc, unit_or_place, record, position):
        """Give a record credited to a province the next ordinal of its frame."""
        province = _province(unit_or_place)
        if province is None:
            return
        if province not in self.frame_sizes:
            # The last ordinal by _id ("<province>|<ordinal, zero-padded>": they sort as numbers;
            # "}" follows "|"), so a build reads the frame through its primary key and leaves the
            # frame's index to be made at the end (kernel.views.building).
            within = {"_id": {"$gt": f"{province}|", "$lt": f"{province}}}"}}
            last = list(self.views[FRAME].find(within).sort("_id", -1).limit(1))
            self.frame_sizes[province] = last[0]["ordinal"] if last else 0
        ordinal = self.frame_sizes[province] = self.frame_sizes[province] + 1
        doc["frame_id"] = frame_id(province, ordinal)
        self.plain.append(
            (
                FRAME,
                "replace",
                doc["frame_id"],
                {
                    "province": province,
                    "ordinal": ordinal,
                    "record": record,
                    "registered_position": position,
                    "revoked_position": None,
                },
            )
        )

    def _leave_frame(self, doc, position):
        if doc.get("frame_id"):
            self.plain.append((FRAME, "set", doc["frame_id"], {"revoked_position": position}))

    # -- experts --------------------------------------------------------------------------
    def on_ExpertRegistered(self, position, e):
        key = str(e.originator_id)
        self.experts[key] = {
            "_id": key,
            "name": e.name,
            "gender": e.gender,
            "id_hash": e.id_hash,
            "id_number_masked": pii.mask(e.id_number),
            "employer": e.employer,
            "title": e.title,
            "specialty": e.specialty,
            "unit": e.unit,
            "location": _place(e.location),
            "bank_account_masked": pii.mask(e.bank_account),
            "registered_on": e.effective_date,
            "revoked_on": None,
            "revoked_position": None,
            "position": position,
            "positions": [],
            "households": [],
            "history": {"locations": [[e.effective_date, position, _place(e.location)]]},
        }
        self._touch(EXPERTS, key, position)
        self._enter_frame(self.experts[key], e.unit, f"expert:{key}", position)
        person = self.persons.setdefault(e.id_hash, {"_id": e.id_hash, "expert_ids": []})
        if key not in person["expert_ids"]:
            person["expert_ids"] = [*person["expert_ids"], key]
        self.dirty.add((PERSONS, e.id_hash))

    def on_ExpertRevoked(self, position, e):
        key = str(e.originator_id)
        doc = self._touch(EXPERTS, key, position)
        doc.update(revoked_on=e.effective_date, revoked_position=position)
        self._leave_frame(doc, position)
        for code in doc["households"]:
            household = self._touch(HOUSEHOLDS, code)
            for pairing in household["history"]["pairings"]:
                if pairing["expert_id"] == key:
                    pairing["expert_revoked_on"] = e.effective_date

    def on_ExpertCorrected(self, position, e):
        doc = self._touch(EXPERTS, str(e.originator_id), position)
        _correct(doc, e, position, masked=("bank_account",))

    def on_ExpertErased(self, position, e):
        doc = self._touch(EXPERTS, str(e.originator_id), position)
        doc.update(name=ERASED, id_number_masked=ERASED, bank_account_masked=ERASED)

    # -- associations and federations -----------------------------------------------------
    def on_AssociationRegistered(self, position, e):
        self.associations[e.credit_code] = {
            "_id": e.credit_code,
            "name": e.name,
            "kind": e.kind,
            "level": e.level,
            "unit": e.unit,
            "location": _place(e.location),
            "supported_by": e.supported_by,
            "registered_on": e.effective_date,
            "revoked_on": None,
            "registered_position": position,
            "revoked_position": None,
            "positions": [],
            "history": {"locations": [[e.effective_date, position, _place(e.location)]]},
        }
        self._touch(ASSOCIATIONS, e.credit_code, position)
        self._enter_frame(
            self.associations[e.credit_code], e.unit, f"association:{e.credit_code}", position
        )

    def on_AssociationRevoked(self, position, e):
        doc = self._touch(ASSOCIATIONS, e.credit_code, position)
        doc.update(revoked_on=e.effective_date, revoked_position=position)
        self._leave_frame(doc, position)

    def on_AssociationCorrected(self, position, e):
        _correct(self._touch(ASSOCIATIONS, e.credit_code, position), e, position)

    # -- households -----------------------------------------------------------------------
    def on_HouseholdRegistered(self, position, e):
        place = _place(e.location)  # shared by the record and its timeline, as a correction does
        self.households[e.code] = {
            "_id": e.code,
            "head_name": e.head_name,
            "head_id_number_masked": pii.mask(e.head_id_number),
            "people": e.people,
            "location": place,
            "registered_on": e.effective_date,
            "revoked_on": None,
            "lifted_on": None,
            "lifted_people": None,
            "lifted_position": None,
            "registered_position": position,
            "revoked_position": None,
            "positions": [],
            "history": {
                "people": [[e.effective_date, position, e.people]],
                "locations": [[e.effective_date, position, place]],
                "pairings": [],
            },
        }
        self._touch(HOUSEHOLDS, e.code, position)
        self._enter_frame(self.households[e.code], e.location, f"household:{e.code}", position)

    def on_HouseholdCorrected(self, position, e):
        doc = self._touch(HOUSEHOLDS, e.code, position)
        _correct(doc, e, position)

    def on_HouseholdRevoked(self, position, e):
        doc = self._touch(HOUSEHOLDS, e.code, position)
        doc.update(revoked_on=e.effective_date, revoked_position=position)
        self._leave_frame(doc, position)

    def on_HouseholdErased(self, position, e):
        doc = self._touch(HOUSEHOLDS, e.code, position)
        doc.update(head_name=ERASED, head_id_number_masked=ERASED)

    def on_HouseholdLiftedOut(self, position, e):
        doc = self._touch(HOUSEHOLDS, e.code, position)
        doc.update(lifted_on=e.date, lifted_people=e.people, lifted_position=position)

    def on_HouseholdPaired(self, position, e):
        expert = self.experts.get(e.expert_id)
        household = self._touch(HOUSEHOLDS, e.code)
        household["history"]["pairings"].append(
            {
                "agreement_id": e.agreement_id,
                "expert_id": e.expert_id,
                "unit": e.unit,
                "since": e.effective_date,
                "position": position,
                "expert_revoked_on": expert["revoked_on"] if expert else None,
            }
        )
        if expert is not None and e.code not in expert["households"]:
            self._touch(EXPERTS, e.expert_id)["households"] = [*expert["households"], e.code]
        self.plain.append(
            (
                PAIRINGS,
                "replace",
                f"{e.agreement_id}:{e.code}",
                {
                    "agreement_id": e.agreement_id,
                    "code": e.code,
                    "expert_id": e.expert_id,
                    "unit": e.unit,
                    "since": e.effective_date,
                    "start": e.start,
                    "end": e.end,
                    "position": position,
                },
            )
        )

    # -- service logs and targets ---------------------------------------------------------
    def on_ServiceLogged(self, position, e):
        self.plain.append(
            (
                SERVICE_LOGS,
                "replace",
                str(e.originator_id),
                {
                    "expert_id": e.expert_id,
                    "unit": e.unit,
                    "date": e.date,
                    "year": int(e.date[:4]),
                    "place": e.place,
                    "form": e.form,
                    "hours": e.hours,
                    "position": position,
                },
            )
        )
        key = f"{e.expert_id}|{e.date[:4]}"
        doc = self.hours.setdefault(
            key,
            {
                "_id": key,
                "expert_id": e.expert_id,
                "year": int(e.date[:4]),
                "hours": 0,
                "entries": 0,
                "days": [],
            },
        )
        doc.update(
            hours=doc["hours"] + e.hours,
            entries=doc["entries"] + 1,
            days=sorted({*doc["days"], e.date}),
        )
        self.dirty.add((SERVICE_HOURS, key))

    def on_TargetsSet(self, position, e):
        self.plain.append(
            (
                TARGETS,
                "replace",
                f"{e.unit}:{e.year}",
                {"unit": e.unit, "year": e.year, "targets": e.targets, "position": position},
            )
        )

    on_TargetsRevised = on_TargetsSet


def frame_id(province, ordinal):
    return f"{province}|{ordinal:010d}"


def _province(unit_or_place):
    """The province whose frame a record enters: its unit's (experts, associations) or its
    location's at registration (households); None for a society's or a national record."""
    if isinstance(unit_or_place, dict):
        return unit_or_place.get("province")
    kind, _, rest = str(unit_or_place).partition(":")
    return rest if kind == "province" else None


def _correct(doc, e, position, masked=()):
    """A correction: the record shows the values in force last; people and location count from
    their effective dates (kept in the record's timelines)."""
    history = doc["history"]
    for name, value in e.changes.items():
        if name == "location":
            history["locations"].append([e.effective_date, position, _place(value)])
            doc["location"] = membership.as_of(history["locations"], OPEN_END)
        elif name == "people":
            history["people"].append([e.effective_date, position, value])
            doc["people"] = membership.as_of(history["people"], OPEN_END)
        elif name in masked:
            doc[name + "_masked"] = pii.mask(value)
        else:
            doc[name] = value


TwoCountsProjection.reads = frozenset(name[3:] for name in vars(_Batch) if name.startswith("on_"))
