"""Valid registry command arguments, overridable field by field."""

from kjfp.sample_data import id_number

YINAN = {"province": "山东", "city": "临沂", "county": "沂南"}


def expert_form(**overrides):
    form = dict(
        name="王建国",
        gender="male",
        id_number=id_number("371321", "19960312", "011"),
        employer="山东农业大学",
        title="研究员",
        specialty="果树栽培",
        phone="13800000001",
        email=None,
        address=None,
        unit="province:山东",
        location=YINAN,
        bank_account=None,
        political_status=None,
        effective_date="2020-01-06",
    )
    form.update(overrides)
    return form


def household_form(code, people=4, **overrides):
    form = dict(
        code=code,
        head_name="张三",
        head_id_number=id_number("371321", "19980101", code[-3:]),
        people=people,
        location=YINAN,
        effective_date="2020-01-06",
    )
    form.update(overrides)
    return form


def pairing_form(expert_id, codes, **overrides):
    form = dict(
        expert_id=expert_id,
        household_codes=codes,
        village="西岭村",
        start="2020-02-01",
        end="2020-12-31",
        goals="掌握苹果矮化密植技术",
        tasks="每月入村指导两次",
        mechanism="专家+合作社+农户",
        effective_date="2020-02-01",
    )
    form.update(overrides)
    return form
