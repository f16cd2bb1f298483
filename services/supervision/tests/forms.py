"""The 2017 special supervision (§000) as request forms: phases from the notice, three provinces."""

PROVINCES = ["province:山西", "province:山东", "province:河北"]


def campaign_2017(**overrides):
    form = {
        "name": "2017年科技助力精准扶贫专项督查",
        "year": 2017,
        "cutoff": "2017-07-31",
        "self_inspection_due": "2017-08-10",
        "field_inspection_start": "2017-08-10",
        "field_inspection_end": "2017-08-20",
        "feedback_due": "2017-08-31",
        "rectification_due": "2017-09-30",
        "units": list(PROVINCES),
        "effective_date": "2017-07-20",
    }
    return {**form, **overrides}


def campaign_2016(**overrides):
    """The 2016 supervision of Shandong: the statistics table's figures to 2016-12-31."""
    form = {
        "name": "2016年度督查",
        "year": 2016,
        "cutoff": "2016-12-31",
        "self_inspection_due": "2017-01-10",
        "field_inspection_start": "2017-01-10",
        "field_inspection_end": "2017-01-20",
        "feedback_due": "2017-01-31",
        "rectification_due": "2017-02-28",
        "units": ["province:山东"],
        "effective_date": "2017-01-01",
    }
    return {**form, **overrides}


def self_inspection(unit, effective_date="2017-08-08", **figures):
    return {
        "unit": unit,
        "declared": {
            "leading_group": True,
            "plan_issued": True,
            "regular_meetings": True,
            "tasks_and_targets_precise": True,
            "pairing_assessment_publicity": True,
            "fund_measures": False,
        },
        "figures": {
            "federations": 0,
            "associations": 0,
            "experts": 0,
            "households": 0,
            "people": 0,
            "project_funds_wan": 0.0,
            **figures,
        },
        "text": "自查报告：工作进展、两数、项目实施情况。",
        "effective_date": effective_date,
    }


def declaring_all(report):
    """A self-inspection that declares every item 1–5 and 10 done."""
    return {**report, "declared": {item: True for item in report["declared"]}}


# 5 groups x 2 provinces in 2017; the test campaign covers three of them.
GROUPS = [
    {"name": "第一组", "inspectors": ["inspector:li"], "provinces": ["山西", "河北"]},
    {"name": "第二组", "inspectors": ["inspector:zhao"], "provinces": ["山东"]},
]


def finding(unit, effective_date="2017-08-15", requires_rectification=True, due=None, **extra):
    return {
        "unit": unit,
        "description": "帮扶台账不完整",
        "severity": "major",
        "requires_rectification": requires_rectification,
        "due": due,
        "effective_date": effective_date,
        **extra,
    }
