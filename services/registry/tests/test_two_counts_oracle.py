"""Issue 14 (must-have oracle): random registers built through the RegistryApplication (embedded
SQLite event store) and projected into each view store: the embedded one (kernel/views.py, the
default mode's) and MongoDB over real pymongo (the stand-in, or MONGO_URI). For every unit and
random dates, every fast figure (the aggregates) equals

- the count (or people sum) of the records explain lists, page by page, and
- a naive reference computed here, independently, from the commands the application accepted;

and a rebuild from the log in one batch gives the same aggregates and rows as the first run in
small batches. The sequences mix registrations, revocations, people and location corrections,
pairings by experts of several units, expert revocations, lifted-out households and effective
dates back and forth (events recorded late with earlier effective dates)."""

import datetime
import tempfile
import uuid
from pathlib import Path

import pymongo
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stdnum.cn import uscc

from kernel import eventstore
from kernel.errors import DomainError
from kernel.projection import ProjectionRunner
from kernel.views import EmbeddedClient
from kjfp.sample_data import id_number
from services.registry import queries
from services.registry.application import RegistryApplication
from services.registry.domain import METRICS
from services.registry.projection import COUNTS, MEMBERSHIP, TwoCountsProjection
from tests.infrastructure import settings_for

PLACES = [
    {"province": "山东", "city": "临沂", "county": "沂南"},
    {"province": "山东", "city": "临沂", "county": "兰山"},
    {"province": "山东", "city": "济南", "county": "历下"},
    {"province": "山西", "city": "吕梁", "county": "临县"},
]
UNITS_OF_RECORDS = ["province:山东", "province:山西", "society:中国农学会"]
UNITS = [
    "national",
    "province:山东",
    "province:山西",
    "society:中国农学会",
    "city:山东/临沂",
    "city:山东/济南",
    "county:山东/临沂/沂南",
    "county:山东/临沂/兰山",
    "city:山西/吕梁",
    "county:山西/吕梁/临县",
]
DAYS = [
    (datetime.date(2019, 1, 1) + datetime.timedelta(days=53 * k)).isoformat() for k in range(16)
]

day = st.sampled_from(DAYS)
early = st.sampled_from(DAYS[:6])
place = st.integers(0, len(PLACES) - 1)
# A register to start from (so that the random operations after it mostly apply)...
SETUP = st.tuples(
    st.lists(
        st.tuples(st.integers(1, 6), place, st.sampled_from(DAYS[:3])), min_size=4, max_size=6
    ).map(
        lambda households: [
            ("household", i, people, where, when)
            for i, (people, where, when) in enumerate(households)
        ]
    ),
    st.lists(
        st.tuples(
            st.just("expert"),
            st.integers(0, 3),
            st.integers(0, 2),
            place,
            st.sampled_from(DAYS[:3]),
        ),
        min_size=2,
        max_size=4,
    ),
    st.lists(
        st.tuples(
            st.just("pair"),
            st.integers(0, 9),
            st.sets(st.integers(0, 3), min_size=1, max_size=3),
            st.sampled_from(DAYS[3:7]),
        ),
        min_size=2,
        max_size=5,
    ),
).map(lambda parts: [op for part in parts for op in part])
# ...then anything, in any order, effective dates back and forth.
OPERATIONS = st.one_of(
    st.tuples(st.just("household"), st.integers(0, 5), st.integers(1, 6), place, day),
    st.tuples(st.just("expert"), st.integers(0, 3), st.integers(0, 2), place, day),
    st.tuples(st.just("revoke_expert"), st.integers(0, 9), day),
    st.tuples(st.just("revoke_expert"), st.integers(0, 9), day),
    st.tuples(st.just("revoke_expert"), st.integers(0, 9), day),
    st.tuples(st.just("correct_expert"), st.integers(0, 9), place, day),
    st.tuples(
        st.just("association"), st.integers(0, 3), st.booleans(), st.integers(0, 2), place, day
    ),
    st.tuples(st.just("revoke_association"), st.integers(0, 3), day),
    st.tuples(st.just("correct_association"), st.integers(0, 3), place, day),
    st.tuples(st.just("revoke_household"), st.integers(0, 5), day),
    st.tuples(
        st.just("correct_household"),
        st.integers(0, 5),
        st.none() | st.integers(1, 6),
        st.none() | place,
        day,
    ),
    st.tuples(
        st.just("pair"), st.integers(0, 9), st.sets(st.integers(0, 5), min_size=1, max_size=3), day
    ),
    st.tuples(
        st.just("pair"), st.integers(0, 9), st.sets(st.integers(0, 5), min_size=1, max_size=3), day
    ),
    st.tuples(st.just("lift"), st.integers(0, 5), st.integers(1, 3), day),
)


def code(i):
    return f"37132100{i:04d}"


def credit_code(i):
    body = f"51371321MJ{i:07d}"
    return body + uscc.calc_check_digit(body)


class Reference:
    """The register as the accepted commands describe it, counted naively (DOMAIN.md's rules)."""

    def __init__(self):
        self.seq = 0
        self.households, self.experts, self.associations = {}, {}, {}

    def tick(self):
        self.seq += 1
        return self.seq

    @staticmethod
    def latest(timeline, when):
        entries = [e for e in timeline if e[0] <= when]
        return max(entries, key=lambda e: (e[0], e[1]))[2] if entries else None

    @staticmethod
    def in_force(record, when):
        return record["reg"] <= when and (record["rev"] is None or when < record["rev"])

    @staticmethod
    def credits(unit, credited_to, where):
        kind, _, path = unit.partition(":")
        if unit == "national":
            return True
        if kind in ("province", "society"):
            return credited_to == unit
        parts = path.split("/")
        same = (
            credited_to == f"province:{parts[0]}"
            and where["province"] == parts[0]
            and where["city"] == parts[1]
        )
        return same and (kind == "city" or where["county"] == parts[2])

    def paired_for(self, unit, household, when):
        if not self.in_force(household, when):
            return False
        where = self.latest(household["locs"], when)
        return any(
            since <= when
            and self.in_force(self.experts[expert], when)
            and self.credits(unit, self.experts[expert]["unit"], where)
            for expert, since in household["pairings"]
        )

    def figures(self, unit, when):
        organisations = {"federations": set(), "associations": set()}
        for key, a in self.associations.items():
            if self.in_force(a, when) and self.credits(
                unit, a["unit"], self.latest(a["locs"], when)
            ):
                organisations["federations" if a["federation"] else "associations"].add(key)
        persons = {}
        for key, x in self.experts.items():
            if self.in_force(x, when) and self.credits(
                unit, x["unit"], self.latest(x["locs"], when)
            ):
                persons.setdefault(x["person"], set()).add(key)
        paired, lifted = {}, {}
        for key, h in self.households.items():
            if not self.in_force(h, when):
                continue
            if self.paired_for(unit, h, when):
                paired[key] = self.latest(h["people"], when)
            # A lift counts for the units that paired the household on the day it was lifted.
            if h["lifted"] and h["lifted"][0] <= when and self.paired_for(unit, h, h["lifted"][0]):
                lifted[key] = h["lifted"][1]
        return {
            "records": {
                "federations": organisations["federations"],
                "associations": organisations["associations"],
                "experts": {frozenset(ids) for ids in persons.values()},
                "households_paired": set(paired),
                "households_lifted": set(lifted),
            },
            "figures": {
                "federations": len(organisations["federations"]),
                "associations": len(organisations["associations"]),
                "experts": len(persons),
                "households_paired": len(paired),
                "people_in_paired_households": sum(paired.values()),
                "households_lifted": len(lifted),
                "people_lifted": sum(lifted.values()),
            },
        }


def drive(app, operations):
    """Run the operations as commands; the application refuses some (a rule): those are not
    recorded, and not in the reference either."""
    ref, expert_ids = Reference(), []
    for op in operations:
        kind, args = op[0], op[1:]
        try:
            if kind == "household":
                i, people, where, when = args
                app.register_household(
                    code=code(i),
                    head_name="户主",
                    head_id_number=id_number("371321", "19980101", f"{i:03d}"),
                    people=people,
                    location=PLACES[where],
                    effective_date=when,
                )
                s = ref.tick()
                ref.households[code(i)] = {
                    "reg": when,
                    "rev": None,
                    "people": [(when, s, people)],
                    "locs": [(when, s, PLACES[where])],
                    "pairings": [],
                    "lifted": None,
                }
            elif kind == "expert":
                person, unit, where, when = args
                expert = app.register_expert(
                    name=f"专家{person}",
                    gender="male",
                    id_number=id_number("371321", "19960312", f"{person:03d}"),
                    employer="农大",
                    title="研究员",
                    specialty="果树",
                    phone="13800000001",
                    email=None,
                    address=None,
                    unit=UNITS_OF_RECORDS[unit],
                    location=PLACES[where],
                    bank_account=None,
                    political_status=None,
                    effective_date=when,
                )
                s = ref.tick()
                expert_ids.append(str(expert.id))
                ref.experts[str(expert.id)] = {
                    "person": person,
                    "unit": UNITS_OF_RECORDS[unit],
                    "reg": when,
                    "rev": None,
                    "locs": [(when, s, PLACES[where])],
                }
            elif kind in ("revoke_expert", "correct_expert", "pair") and not expert_ids:
                continue
            elif kind == "revoke_expert":
                expert, when = expert_ids[args[0] % len(expert_ids)], args[1]
                app.revoke("expert", expert, "调离", when)
                ref.tick()
                ref.experts[expert]["rev"] = when
            elif kind == "correct_expert":
                expert, where, when = expert_ids[args[0] % len(expert_ids)], args[1], args[2]
                app.correct("expert", expert, {"location": PLACES[where]}, "更正", when)
                ref.experts[expert]["locs"].append((when, ref.tick(), PLACES[where]))
            elif kind == "association":
                i, federation, unit, where, when = args
                app.register_association(
                    name=f"协会{i}",
                    credit_code=credit_code(i),
                    kind="federation" if federation else "association",
                    level="county",
                    unit=UNITS_OF_RECORDS[unit],
                    location=PLACES[where],
                    supported_by="县科协",
                    effective_date=when,
                )
                s = ref.tick()
                ref.associations[credit_code(i)] = {
                    "federation": federation,
                    "unit": UNITS_OF_RECORDS[unit],
                    "reg": when,
                    "rev": None,
                    "locs": [(when, s, PLACES[where])],
                }
            elif kind == "revoke_association":
                app.revoke("association", credit_code(args[0]), "撤销", args[1])
                ref.tick()
                ref.associations[credit_code(args[0])]["rev"] = args[1]
            elif kind == "correct_association":
                i, where, when = args
                app.correct(
                    "association", credit_code(i), {"location": PLACES[where]}, "更正", when
                )
                ref.associations[credit_code(i)]["locs"].append((when, ref.tick(), PLACES[where]))
            elif kind == "revoke_household":
                app.revoke("household", code(args[0]), "核销", args[1])
                ref.tick()
                ref.households[code(args[0])]["rev"] = args[1]
            elif kind == "correct_household":
                i, people, where, when = args
                changes = {
                    **({"people": people} if people else {}),
                    **({"location": PLACES[where]} if where is not None else {}),
                }
                app.correct("household", code(i), changes, "更正", when)
                s = ref.tick()
                if people:
                    ref.households[code(i)]["people"].append((when, s, people))
                if where is not None:
                    ref.households[code(i)]["locs"].append((when, s, PLACES[where]))
            elif kind == "pair":
                expert, codes, when = (
                    expert_ids[args[0] % len(expert_ids)],
                    [code(i) for i in sorted(args[1])],
                    args[2],
                )
                app.file_pairing(
                    expert_id=expert,
                    household_codes=codes,
                    village="西岭村",
                    start=when,
                    end="2022-12-31",
                    goals="技术",
                    tasks="指导",
                    mechanism="专家+农户",
                    effective_date=when,
                )
                ref.tick()
                for c in codes:
                    ref.households[c]["pairings"].append((expert, when))
            elif kind == "lift":
                i, people, when = args
                app.lift_out(code(i), when, people, when)
                ref.tick()
                ref.households[code(i)]["lifted"] = (when, people)
        except DomainError:
            pass
    return ref


def explained(views, unit, metric, when, limit):
    """Every record explain lists for the figure, following next_cursor page by page."""
    records, cursor, total = [], None, None
    while True:
        page = queries.explain(views, unit, metric, when, limit=limit, cursor=cursor)
        records += page["records"]
        total = page["total"]
        cursor = page["next_cursor"]
        if cursor is None:
            return total, records


def identity(metric, record):
    if metric in ("federations", "associations"):
        return record["credit_code"]
    if metric == "experts":
        return frozenset(record["expert_ids"])
    return record["code"]


def snapshot(views):
    return {
        name: sorted(views[name].find({}), key=lambda d: d["_id"]) for name in (COUNTS, MEMBERSHIP)
    }


@pytest.fixture(scope="module", params=["embedded", "mongodb"])
def client(request, tmp_path_factory):
    if request.param == "embedded":
        client = EmbeddedClient(tmp_path_factory.mktemp("oracle") / "views.sqlite3")
    else:
        client = pymongo.MongoClient(
            request.getfixturevalue("mongo_uri"), serverSelectionTimeoutMS=5000
        )
    yield client
    client.close()


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    setup=SETUP,
    operations=st.lists(OPERATIONS, max_size=30),
    batch_size=st.integers(1, 7),
    dates=st.lists(day | st.sampled_from(["2018-12-31", "2025-06-30"]), min_size=2, max_size=4),
    page=st.integers(1, 3),
)
def test_every_figure_equals_its_records_and_a_naive_count(
    client, setup, operations, batch_size, dates, page
):
    db = client[f"oracle_{uuid.uuid4().hex[:8]}"]
    with tempfile.TemporaryDirectory() as directory:
        app = RegistryApplication(
            env=eventstore.application_env(settings_for(Path(directory)), "registry"),
            pii_hash_key="test-key",
        )
        try:
            reference = drive(app, setup + operations)
            runner = ProjectionRunner(app, db, TwoCountsProjection(), batch_size=batch_size)
            runner.run()
            for unit in UNITS:
                for when in dates:
                    expected = reference.figures(unit, when)
                    counts = queries.two_counts(db, unit, when)
                    assert {m: counts[m] for m in METRICS} == expected["figures"], (unit, when)
                    for metric in METRICS:
                        total, records = explained(db, unit, metric, when, page)
                        assert total == counts[metric]
                        if metric.startswith("people"):
                            key = (
                                "people"
                                if metric == "people_in_paired_households"
                                else "lifted_people"
                            )
                            assert sum(r[key] for r in records) == total, (unit, when, metric)
                        else:
                            assert len(records) == total, (unit, when, metric)
                            group = metric
                            assert {identity(metric, r) for r in records} == expected["records"][
                                group
                            ]
            before = snapshot(db)
            ProjectionRunner(app, db, TwoCountsProjection()).rebuild()
            assert snapshot(db) == before
        finally:
            app.close()
            if isinstance(client, pymongo.MongoClient):  # the embedded file goes with its directory
                client.drop_database(db.name)
