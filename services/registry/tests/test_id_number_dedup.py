"""Issue 13 items 1 and 3 on the registry's write side: a real ID number registers whatever its
region code's age, and one person is one keyed hash however the number is written (full-width
digits, a 15-digit first-generation card). On the embedded SQLite event store, and on the real
PostgreSQL event store with two application instances racing as two replicas."""

import eventlet
import pytest

from kernel.errors import Conflict, ValidationFailed
from kernel.identity import check_character
from services.registry.tests.forms import expert_form, household_form

HEAD_1965 = "37132119650101001" + check_character("37132119650101001")  # 沂南县, born 1965
EXPERT_1970 = "37010219700101002" + check_character("37010219700101002")  # 历下区, born 1970
RETIRED = "41272319800101003" + check_character(
    "41272319800101003"
)  # 商水县 under 周口地区, until 2000


def full_width(number):
    return "".join(chr(ord(c) + 0xFEE0) for c in number)


def test_real_numbers_register_and_another_spelling_is_the_same_person(app):
    """Issue 13 items 1 and 3."""
    app.register_household(**household_form("371321000001", head_id_number=HEAD_1965))
    app.register_household(
        **household_form(
            "412723000001",
            head_id_number=RETIRED,
            location={"province": "河南", "city": "周口", "county": "商水"},
        )
    )
    expert = app.register_expert(**expert_form(id_number=EXPERT_1970))
    assert expert.id_number == EXPERT_1970
    partly_full_width = EXPERT_1970[:7] + full_width(EXPERT_1970[7:11]) + EXPERT_1970[11:]
    for spelling in (
        full_width(EXPERT_1970),
        partly_full_width,
        f"{EXPERT_1970[:6]} {EXPERT_1970[6:]}\u200b",
        "370102700101002",
    ):
        with pytest.raises(Conflict) as refused:
            app.register_expert(**expert_form(id_number=spelling, phone="13900000000"))
        assert refused.value.details == {"id_number": ["already registered"]}


def test_a_place_the_gateway_would_refuse_is_refused_by_the_application_too(app):
    """Issue 13 item 5: an RPC caller cannot bypass the gateway's place check, and the
    application records the canonical names."""
    with pytest.raises(ValidationFailed) as refused:
        app.register_household(
            **household_form("371321000002", location={"province": "山东", "city": "临x"})
        )
    assert refused.value.details == {"location.city": ["no city 临x in 山东"]}
    household = app.register_household(
        **household_form(
            "371321000003", location={"province": "山東省", "city": "臨沂市", "county": "沂南縣"}
        )
    )
    assert household.location == {
        "province": "山东",
        "city": "临沂",
        "county": "沂南",
        "township": None,
        "village": None,
    }
    assert app.register_expert(**expert_form(unit="province:山东省")).unit == "province:山东"


def test_racing_registrations_of_one_person_in_different_spellings_register_once(two_replicas):
    """Issue 13 item 3 on PostgreSQL: the uniqueness of the keyed hash is the event store's, so
    two replicas given the ASCII and the full-width spelling at once record one expert."""
    spellings = [EXPERT_1970, full_width(EXPERT_1970), EXPERT_1970.lower(), "370102700101002"]
    results = []

    def register(application, n):
        try:
            results.append(
                application.register_expert(
                    **expert_form(id_number=spellings[n % len(spellings)], phone=f"1380000{n:04d}")
                )
            )
        except Conflict as refused:
            results.append(refused)

    pool = eventlet.GreenPool()
    for n in range(8):
        pool.spawn(register, two_replicas[n % 2], n)
    pool.waitall()

    assert len(results) == 8
    assert sum(not isinstance(r, Conflict) for r in results) == 1
