"""The 2017 special supervision (§000) as request forms: phases from the notice, three provinces
(and the 2016 one of Shandong that the statistics-table scenarios file)."""

from services.supervision.domain import PHASES

PROVINCES = ["province:山西", "province:山东", "province:河北"]


def campaign(name, year, units, launched_on, phase_dates, /, **overrides):
    """A campaign's form: launched on ``launched_on``, ``phase_dates`` in the order of PHASES."""
    form = {"name": name, "year": year, "units": units, "effective_date": launched_on}
    return {**form, **dict(zip(PHASES, phase_dates, strict=True)), **overrides}


def campaign_2017(**overrides):
    phases = ("2017-07-31", "2017-08-10", "2017-08-10", "2017-08-20", "2017-08-31", "2017-09-30")
    name = "2017年科技助力精准扶贫专项督查"
    return campaign(name, 2017, list(PROVINCES), "2017-07-20", phases, **overrides)


def campaign_2016(**overrides):
    """The 2016 supervision of Shandong: the statistics table's figures to 2016-12-31."""
    phases = ("2016-12-31", "2017-01-10", "2017-01-10", "2017-01-20", "2017-01-31", "2017-02-28")
    return campaign("2016年度督查", 2016, ["province:山东"], "2017-01-01", phases, **overrides)


def campaign_2020(units):
    """A 2020 spot campaign (抽查) of ``units``."""
    phases = ("2020-05-31", "2020-06-05", "2020-06-05", "2020-06-15", "2020-06-20", "2020-07-01")
    return campaign("2020年抽查", 2020, units, "2020-05-20", phases)


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
