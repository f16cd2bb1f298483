"""The bulk import's row loader (gateway/imports.py, unit test, no system): a row loads to exactly
what HouseholdSchema makes of it, or fails with exactly its errors, however the row is wrong."""

import pytest
from marshmallow import ValidationError, validates_schema

from gateway.entrypoints import _flatten
from gateway.imports import _load, validate
from gateway.registry_schemas import HouseholdSchema
from kjfp.sample_data import id_number

GOOD = {
    "code": "H0001",
    "head_name": "户主",
    "head_id_number": id_number("371321", "19950101", "001"),
    "people": 3,
    "location": {"province": "山东", "city": "临沂", "county": "沂南"},
}
ROWS = [
    GOOD,
    {**GOOD, "effective_date": "2020-01-01"},
    {**GOOD, "effective_date": "2999-01-01"},
    {**GOOD, "effective_date": "2020-1-1"},
    {**GOOD, "people": True},
    {**GOOD, "people": "3"},
    {**GOOD, "people": 51},
    {**GOOD, "code": "H0001\n"},
    {**GOOD, "head_id_number": GOOD["head_id_number"][:-1] + "0"},
    {**GOOD, "head_name": ""},
    {**GOOD, "head_name": None},
    {**GOOD, "extra": 1},
    {k: v for k, v in GOOD.items() if k != "people"},
    {**GOOD, "location": "山东"},
    {**GOOD, "location": {"province": ["山东"]}},
    {**GOOD, "location": {"province": "山东"}},
    {**GOOD, "location": {"province": "山东", "city": "临沂", "county": "不存在"}},
    {**GOOD, "location": {"province": "山东", "city": "临沂", "county": "沂南", "x": "y"}},
    {
        **GOOD,
        "location": {"province": "山東省", "city": "临沂市", "county": "沂南县", "village": " 村"},
    },
]


def schema_says(row):
    try:
        return {**HouseholdSchema().load(row)}, None
    except ValidationError as invalid:
        return None, invalid.messages


@pytest.mark.parametrize("row", ROWS)
def test_a_row_loads_as_the_schema_loads_it_even_after_rows_sharing_its_location(row):
    good, rejected = validate([GOOD, row, row])  # the second time, its location is known
    loaded, errors = schema_says(row)
    if errors is None:
        assert good[1:] == [{**loaded, "row": 2}, {**loaded, "row": 3}]
        assert rejected == []
    else:
        assert [r["row"] for r in rejected] == [2, 3]
        assert rejected[0]["reasons"] == rejected[1]["reasons"] == _flatten(errors)
        assert len(good) == 1


def test_a_schema_with_a_hook_the_fast_loader_does_not_know_loads_through_the_schema():
    """Were a rule added to HouseholdSchema as a hook, the row loader would not skip it."""

    class Stricter(HouseholdSchema):
        @validates_schema
        def no_imports_today(self, data, **kwargs):
            raise ValidationError("closed", "code")

    with pytest.raises(ValidationError) as refused:
        _load(Stricter(), dict(GOOD), {})
    assert refused.value.messages == {"code": ["closed"]}
    assert _load(HouseholdSchema(), dict(GOOD), {})["code"] == "H0001"
