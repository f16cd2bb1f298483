"""Ready award-round configurations (POST /award-rounds bodies).

The 2020 round of §003 (科技助力扶贫办发〔2020〕4号): 20 advanced teams and 50 advanced
individuals nationally; key poverty provinces recommend 1–2 teams and 2–3 individuals; other
provinces and national societies at most 1 team and 1 individual; nominees come from those
commended since 2016; material by 2020-08-15; public notice at least one week (§002 三(五)).
"""

# The provinces with the heaviest poverty-alleviation tasks (the "三区三州" and the central and
# western provinces with the most poor counties). §003 says "扶贫重点省份" without a list, so the
# list is configuration: the national office may change it per round.
KEY_PROVINCES_2020 = [
    "河北",
    "山西",
    "内蒙古",
    "吉林",
    "黑龙江",
    "安徽",
    "江西",
    "河南",
    "湖北",
    "湖南",
    "广西",
    "海南",
    "重庆",
    "四川",
    "贵州",
    "云南",
    "西藏",
    "陕西",
    "甘肃",
    "青海",
    "宁夏",
    "新疆",
]


def round_2020(organising_units=None, **overrides):
    """The §003 round. ``organising_units`` (e.g. ``{"total": 10, "max": 1}``) adds the
    outstanding-organising-unit category of §001, which §003 does not allocate for 2020."""
    form = {
        "year": 2020,
        "name": "2016年以来全国科技助力精准扶贫先进团队、先进个人表扬",
        "categories": ["team", "individual"],
        "national_totals": {"team": 20, "individual": 50},
        "key_provinces": list(KEY_PROVINCES_2020),
        "quotas": {
            "key_province": {"team": {"min": 1, "max": 2}, "individual": {"min": 2, "max": 3}},
            "other_province": {"team": {"min": 0, "max": 1}, "individual": {"min": 0, "max": 1}},
            "society": {"team": {"min": 0, "max": 1}, "individual": {"min": 0, "max": 1}},
        },
        "notice_days": 7,
        "deadline": "2020-08-15",
        "prior_commendation_since": 2016,
        "effective_date": "2020-06-01",
    }
    if organising_units:
        form["categories"] = ["organising_unit", *form["categories"]]
        form["national_totals"] = {
            "organising_unit": organising_units["total"],
            **form["national_totals"],
        }
        for limits in form["quotas"].values():
            limits["organising_unit"] = {"min": 0, "max": organising_units["max"]}
    return {**form, **overrides}


READY = {"2020": round_2020}


def load(name, url, token, effective_date=None):
    """Configure a ready round through the API (POST /award-rounds); a re-run answers with the
    round configured first (409 on the year carries its id). Returns the round's id."""
    import requests

    body = READY[name]()
    if effective_date:
        body["effective_date"] = effective_date
    reply = requests.post(
        f"{url.rstrip('/')}/api/v1/award-rounds",
        json=body,
        timeout=60,
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": f"award-round:{name}"},
    )
    if reply.status_code == 409 and "round_id" in reply.json().get("details", {}):
        return reply.json()["details"]["round_id"][0], False
    if reply.status_code != 201:
        raise RuntimeError(f"{reply.status_code}: {reply.text}")
    return reply.json()["id"], True
