"""Issue 13 items 1, 3, 4 and 5 over HTTP on the embedded system (in-process memory://
transport, SQLite event stores, the embedded view store): real ID numbers register, one person
is one hash, corrections stay inside the writer's jurisdiction, places are canonical."""

import pytest

from kernel.identity import check_character
from services.registry.tests.forms import expert_form, household_form
from tests.http_client import log_position, pairing_body, start_system


def issued(first17):
    return first17 + check_character(first17)


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    service_runner, client = start_system(tmp_path_factory.mktemp("places"))
    yield client
    service_runner.stop()


def test_real_id_numbers_register_whatever_the_region_codes_age(api):
    """Issue 13 item 1: a 沂南县 head born 1965, a 历下区 expert born 1970, a retired code (412723)
    and a 15-digit first-generation card are accepted; the 15-digit one is stored upgraded."""
    head = api.post(
        "/households", household_form("371321065001", head_id_number=issued("37132119650101001"))
    )
    assert head.status_code == 201, head.text
    expert = api.post(
        "/experts", expert_form(id_number=issued("37010219700101002"), phone="13800001970")
    )
    assert expert.status_code == 201, expert.text
    shangshui = {"province": "河南", "city": "周口", "county": "商水"}
    retired = api.post(
        "/households",
        household_form(
            "412723080001", head_id_number=issued("41272319800101003"), location=shangshui
        ),
    )
    assert retired.status_code == 201, retired.text
    first_generation = api.post(
        "/experts", expert_form(id_number="371321550101002", phone="13800001955")
    )
    assert first_generation.status_code == 201, first_generation.text
    assert (
        first_generation.json()["id_number"] == "3713**********" + issued("37132119550101002")[-4:]
    )
    # the 18-character card of the same person is the same person
    again = api.post(
        "/experts", expert_form(id_number=issued("37132119550101002"), phone="13800001956")
    )
    assert again.status_code == 409


@pytest.mark.parametrize(
    "number, part",
    [
        (issued("37132120990101001"), "in the future"),
        (issued("37132119650101001")[:-1] + "Y", "check character"),
        (issued("99999919650101001"), "region code 999999"),
    ],
)
def test_an_invalid_id_number_is_a_400_naming_the_field_and_the_part(api, number, part):
    """Issue 13 item 1."""
    before = log_position(api)
    response = api.post("/experts", expert_form(id_number=number, phone="13800009999"))
    assert response.status_code == 400, response.text
    assert part in " ".join(response.json()["details"]["id_number"])
    assert log_position(api) == before


def test_a_full_width_id_number_is_the_same_person(api):
    """Issue 13 item 3: one person is one hash, however the digits are written."""
    number = issued("37010219960101003")
    assert (
        api.post("/experts", expert_form(id_number=number, phone="13800001996")).status_code == 201
    )
    full_width = number[:7] + "".join(chr(ord(c) + 0xFEE0) for c in number[7:11]) + number[11:]
    duplicate = api.post("/experts", expert_form(id_number=full_width, phone="13800001997"))
    assert duplicate.status_code == 409, duplicate.text
    assert "id_number" in duplicate.json()["details"]


def test_every_spelling_registers_as_the_canonical_province_and_counts_there(api):
    """Issue 13 item 5: households in 山東, "山东 ", ⼭东, 山东+ZWSP and 山东省 are recorded as 山东
    and, once paired, count for province:山东 and its county."""
    expert = api.post(
        "/experts", expert_form(id_number=issued("37132119660101007"), phone="13800001966")
    )
    assert expert.status_code == 201, expert.text
    before = api.get("/two-counts", params={"unit": "county:山东/临沂/沂南"}).json()[
        "households_paired"
    ]
    codes = []
    for n, province in enumerate(["山東", "山东 ", "⼭东", "山东\u200b", "山东省"]):
        codes.append(f"3713215000{n:02d}")
        location = {"province": province, "city": "临沂市", "county": "沂南县"}
        response = api.post("/households", household_form(codes[-1], location=location))
        assert response.status_code == 201, response.text
        assert response.json()["location"]["province"] == "山东"
    assert api.post("/pairings", pairing_body(expert.json()["id"], codes)).status_code == 201
    for unit in ("province:山东", "county:山东/临沂/沂南"):
        counts = api.get("/two-counts", params={"unit": unit}).json()
        assert counts["households_paired"] >= len(codes)
    after = api.get("/two-counts", params={"unit": "county:山东/临沂/沂南"}).json()[
        "households_paired"
    ]
    assert after - before == len(codes)


def test_a_provincial_office_may_use_its_provinces_full_name(api):
    """Issue 13 item 5: a province:山东 office asking for province:山东省 is asking for its own."""
    token = api.token("provincial_office", "province:山东")
    response = api.get("/two-counts", params={"unit": "province:山东省"}, token=token)
    assert response.status_code == 200, response.text
    assert response.json()["unit"] == "province:山东"
    full_name_token = api.token("provincial_office", "province:山東省")
    expert = api.post(
        "/experts",
        expert_form(
            id_number=issued("37132119800101005"), phone="13800001980", unit="province:山东"
        ),
        token=full_name_token,
    )
    assert expert.status_code == 201, expert.text
    listed = api.get("/experts", params={"unit": "province:山东省"}, token=token)
    assert listed.status_code == 200, listed.text
    targets = api.call(
        "PUT",
        "/targets/city:山東省/臨沂市",
        json={"year": 2020, "households_paired": 10},
        token=token,
    )
    assert targets.status_code == 200, targets.text
    assert targets.json()["unit"] == "city:山东/临沂"


def test_an_unknown_place_is_a_400_naming_the_field(api):
    """Issue 13 item 5."""
    before = log_position(api)
    response = api.post(
        "/households",
        household_form(
            "371321099001", location={"province": "山东", "city": "临x", "county": "沂南"}
        ),
    )
    assert response.status_code == 400, response.text
    assert response.json()["details"] == {"location.city": ["no city 临x in 山东"]}
    unit = api.get("/two-counts", params={"unit": "city:山东/临x"})
    assert unit.status_code == 400 and "unit" in unit.json()["details"]
    assert log_position(api) == before


def test_a_correction_cannot_move_a_record_out_of_the_writers_jurisdiction(api):
    """Issue 13 item 4: the writer's jurisdiction is checked over the record's current location
    and over the new one; a refused correction records nothing."""
    assert api.post("/households", household_form("371321044001")).status_code == 201
    province = api.token("county_association", "province:山东")
    city = api.token("county_association", "city:山东/临沂")
    moves = [
        (province, {"province": "山西", "city": "吕梁", "county": "岚县"}),
        (city, {"province": "山东", "city": "济南", "county": "历下"}),
    ]
    for token, where in moves:
        before = log_position(api)
        response = api.post(
            "/households/371321044001/corrections",
            {"changes": {"location": where}, "reason": "迁址"},
            token=token,
        )
        assert response.status_code == 403, response.text
        assert log_position(api) == before
    inside = api.post(
        "/households/371321044001/corrections",
        {
            "changes": {"location": {"province": "山东", "city": "临沂", "county": "兰山"}},
            "reason": "迁址",
        },
        token=city,
    )
    assert inside.status_code == 200, inside.text
    assert inside.json()["location"]["county"] == "兰山"
    expert = api.post(
        "/experts", expert_form(id_number=issued("37132119750101006"), phone="13800001975")
    )
    assert expert.status_code == 201
    moved = api.post(
        f"/experts/{expert.json()['id']}/corrections",
        {
            "changes": {"location": {"province": "山东", "city": "济南", "county": "历下"}},
            "reason": "调动",
        },
        token=city,
    )
    assert moved.status_code == 403, moved.text
