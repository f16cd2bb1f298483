"""The living sample: a deterministic programme at work, loaded through the public HTTP API.

Five real counties of two provinces (山东: 临沂/沂南, 临沂/兰陵, 菏泽/曹县; 山西: 吕梁/岚县,
吕梁/临县) and a national society (中国农学会): households imported in bulk, experts, associations
and federations, pairing agreements, service logs, households lifted out of poverty, yearly
targets; the 2017 special supervision (self-inspections, one with inflated figures; findings and
rectification items, some overdue, one verified); Shandong's expert service action (projects
through the five-level chain, public notice, payments); the 2020 award round with nominations.

Everything is derived from the record's index (no randomness), every write carries an
Idempotency-Key, and a system that already holds the sample is recognised by its figures, so a
restart loads nothing twice. ``households`` and ``experts`` scale it down for tests.
"""

import csv
import io
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from urllib.parse import quote

import requests
from stdnum.cn import uscc

from kernel.identity import check_character
from services.awards.rounds import round_2020
from services.funding.programmes import SHANDONG as SHANDONG_PROGRAMME

SHANDONG, SHANXI, SOCIETY = "province:山东", "province:山西", "society:中国农学会"
LAST_DAY = date(2020, 12, 31)


def id_number(region="371321", birth="19950101", seq="123"):
    """A GB 11643-valid ID number (region code valid at the birth date, right check character)."""
    body = f"{region}{birth}{seq}"
    return body + check_character(body)


# (province, city, county, region code, share of the households, townships, villages)
COUNTIES = [
    (province, city, county, region, share, tuple(townships.split()), tuple(villages.split()))
    for province, city, county, region, share, townships, villages in [
        ("山东", "临沂", "沂南", "371321", 5, "依汶镇 岸堤镇 双堠镇", "西岭村 东峪村 马泉村"),
        ("山东", "临沂", "兰陵", "371324", 4, "尚岩镇 下村乡 车辋镇", "南庄村 北官庄村 杨家村"),
        ("山东", "菏泽", "曹县", "371721", 4, "庄寨镇 魏湾镇 青岗集镇", "张庄村 王楼村 李集村"),
        ("山西", "吕梁", "岚县", "141129", 3, "东村镇 岚城镇 普明镇", "西坡村 河口村 上明村"),
        ("山西", "吕梁", "临县", "141124", 4, "临泉镇 白文镇 城庄镇", "前庄村 后沟村 石门村"),
    ]
]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = "建国秀英文华志强桂兰海燕明伟玉梅永红春生丽娟德胜淑珍凤英俊杰国平金凤晓东"
SPECIALTIES = (
    "果树栽培",
    "蔬菜种植",
    "畜禽养殖",
    "马铃薯育种",
    "中药材种植",
    "食用菌",
    "农业机械",
    "小杂粮",
)
EMPLOYERS = {
    "山东": ("山东农业大学", "临沂市农业科学院", "菏泽市农业科学院", "山东省农业科学院"),
    "山西": ("山西农业大学", "吕梁市农业科学研究所", "山西省农业科学院"),
    "society": ("中国农业科学院", "中国农业大学"),
}
TITLES = ("研究员", "高级农艺师", "农艺师", "副教授", "高级畜牧师")


def _name(n):
    return (
        SURNAMES[n % len(SURNAMES)] + GIVEN[(n * 7) % len(GIVEN)] + GIVEN[(n * 13 + 5) % len(GIVEN)]
    )


def _day(start, days):
    return (start + timedelta(days=days)).isoformat()


class Plan:
    """What the sample holds, computed from its size alone."""

    def __init__(self, households, experts):
        total_share = sum(c[4] for c in COUNTIES)
        self.households = {}  # county index → household rows
        for ci, (province, city, county, region, share, townships, villages) in enumerate(COUNTIES):
            rows = []
            for i in range(households * share // total_share):
                birth = (date(1950, 1, 1) + timedelta(days=(i * 37) % 16000)).strftime("%Y%m%d")
                rows.append(
                    {
                        "code": f"{region}{i + 1:06d}",
                        "head_name": _name(i + ci * 977),
                        "head_id_number": id_number(
                            region, birth, f"{100 + i // 16000 * 10 + ci:03d}"
                        ),
                        "people": 1 + (i * 7) % 6,
                        "province": province,
                        "city": city,
                        "county": county,
                        "township": townships[i % 3],
                        "village": villages[(i // 3) % 3],
                        "effective_date": "2016-01-15",
                    }
                )
            self.households[ci] = rows
        # Experts: 44 % 山东, 40 % 山西, 16 % the society; each works in one county.
        self.experts = []
        for n in range(experts):
            if n % 25 < 11:
                unit, ci = SHANDONG, (n // 25 + n) % 3
            elif n % 25 < 21:
                unit, ci = SHANXI, 3 + (n // 25 + n) % 2
            else:
                unit, ci = SOCIETY, (n // 25 + n) % 5
            province, city, county, region = COUNTIES[ci][:4]
            employers = EMPLOYERS["society" if unit == SOCIETY else province]
            birth = (date(1960, 1, 1) + timedelta(days=(n * 53) % 10900)).strftime("%Y%m%d")
            self.experts.append(
                {
                    "county": ci,
                    "form": {
                        "name": _name(n + 5000),
                        "gender": "female" if n % 3 == 1 else "male",
                        "id_number": id_number(region, birth, f"{500 + n // 10900:03d}"),
                        "employer": employers[n % len(employers)],
                        "title": TITLES[n % len(TITLES)],
                        "specialty": SPECIALTIES[n % len(SPECIALTIES)],
                        "phone": f"139{n:08d}",
                        "unit": unit,
                        "location": {"province": province, "city": city, "county": county},
                        "bank_account": f"6222020200{n:09d}",
                        "effective_date": _day(date(2016, 2, 1), (n * 11) % 420),
                    },
                }
            )
        # Pairings: province experts pair the next households of their county in order; society
        # experts pair from the county's end (some households are paired by both: one for each).
        taken = {ci: 0 for ci in self.households}
        from_end = {ci: 0 for ci in self.households}
        per_expert = max(2, round(0.6 * households / max(experts, 1)))
        self.pairings = []
        for n, expert in enumerate(self.experts):
            ci, rows = expert["county"], self.households[expert["county"]]
            if expert["form"]["unit"] == SOCIETY:
                chosen = rows[len(rows) - from_end[ci] - per_expert : len(rows) - from_end[ci]]
                from_end[ci] += per_expert
            else:
                chosen = rows[taken[ci] : taken[ci] + per_expert]
                taken[ci] += per_expert
            if not chosen:
                continue
            registered = date.fromisoformat(expert["form"]["effective_date"])
            start = min(registered + timedelta(days=30 + (n * 17) % 1100), date(2020, 6, 30))
            self.pairings.append({"expert": n, "rows": chosen, "start": start})

    def lifted(self):
        """One paired household in twelve, lifted out 8–30 months after its pairing (one request
        each: the API has no bulk form for it, and the sample must load in under a minute)."""
        for p, pairing in enumerate(self.pairings):
            for k, row in enumerate(pairing["rows"]):
                if (p + k) % 12 == 0:
                    on = pairing["start"] + timedelta(days=240 + (p * 31 + k * 17) % 660)
                    if on <= LAST_DAY:
                        yield row, on


class Api:
    """The API as a client sees it; tokens minted for each office the sample acts as."""

    def __init__(self, base_url, mint, workers=8):
        self.api = base_url.rstrip("/") + "/api/v1"
        self.mint = mint
        self.tokens = {}
        self.pool = ThreadPoolExecutor(workers)
        self.sessions = {}

    def token(self, role="national_office", scope="national", subject="sample:national"):
        key = (role, scope, subject)
        if key not in self.tokens:
            self.tokens[key] = self.mint(role, scope, subject)
        return self.tokens[key]

    def call(
        self, method, path, body=None, key=None, as_=None, ok=(200, 201), headers=None, **kwargs
    ):
        session = self.sessions.setdefault(threading.get_ident(), requests.Session())
        headers = {
            **(headers or {}),
            "Authorization": f"Bearer {self.token(*as_) if as_ else self.token()}",
        }
        if key:
            headers["Idempotency-Key"] = "sample:" + quote(key)  # a header is Latin-1
        response = session.request(
            method, self.api + path, json=body, headers=headers, timeout=600, **kwargs
        )
        if response.status_code not in ok:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text[:500]}")
        return response.json()

    def many(self, calls):
        """Run ``(method, path, body, key, as_)`` calls concurrently; their answers in order."""
        return list(self.pool.map(lambda c: self.call(*c), calls))


def office(unit):
    return (
        "society" if unit.startswith("society:") else "provincial_office",
        unit,
        f"sample:{unit}",
    )


def county_body(scope):
    return ("county_association", scope, f"sample:{scope}")


def inspector(name):
    return ("inspector", "national", f"inspector:{name}")


def load(base_url, mint, log=print, households=20_000, experts=500):
    """Load the sample into the system at ``base_url``; ``mint(role, scope, subject)`` gives a
    token. Returns what a link to the page needs to open on the sample: ``campaign``,
    ``programme``, ``round`` (ids) and ``as_of`` (the last day of the programme's years)."""
    started = time.monotonic()
    api = Api(base_url, mint)
    plan = Plan(households, experts)
    try:
        # The round is configured first and publicized last: a published round means a whole
        # sample is there. Otherwise every step runs, and its keys make what an interrupted
        # load recorded answer as before rather than twice.
        round_id = api.call(
            "POST", "/award-rounds", round_2020(), "award-round:2020", ok=(201, 409)
        )
        round_id = (
            round_id.get("id") or round_id["details"]["round_id"][0]
        )  # 409: the year's round exists
        loaded = api.call("GET", f"/award-rounds/{round_id}")["status"] != "open"
        if not loaded:
            _registers(api, plan, log)
        programme = _funding(
            api, plan, log, loaded
        )  # before the self-inspections, which declare item 11
        ids = {
            "campaign": _supervision(api, plan, log, loaded),
            "programme": programme,
            "round": round_id if loaded else _awards(api, plan, log, round_id),
            "as_of": LAST_DAY.isoformat(),
        }
    finally:
        api.pool.shutdown()
    log(
        f"sample data {'was there already' if loaded else 'loaded'} ({time.monotonic() - started:.0f} s): "
        f"{sum(len(c) for c in plan.households.values())} households, {len(plan.experts)} experts, "
        f"{len(plan.pairings)} pairing agreements"
    )
    return ids


def _registers(api, plan, log):
    rows = [row for county in plan.households.values() for row in county]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    imported = api.call(
        "POST",
        "/households/import",
        data=out.getvalue().encode("utf-8"),
        ok=(200,),
        headers={"Content-Type": "text/csv; charset=utf-8"},
    )
    log(
        f"sample data: households created {imported['created']}, already there {imported['duplicate']}"
    )

    ids = _expert_ids(api, plan)

    organisations = []
    for ci, (province, city, county, region, *_rest, townships, _villages) in enumerate(COUNTIES):
        for k in range(4):
            unit = SHANDONG if province == "山东" else SHANXI
            kind = "federation" if k == 0 else "association"
            body = f"51{region}MJ{ci:02d}{k:05d}"[:17]
            organisations.append(
                {
                    "name": f"{county}县农村专业技术协会联合会"
                    if k == 0
                    else f"{townships[k - 1]}{SPECIALTIES[(ci + k) % len(SPECIALTIES)]}协会",
                    "credit_code": body + uscc.calc_check_digit(body + "0"),
                    "kind": kind,
                    "level": "county" if k == 0 else "township",
                    "unit": unit,
                    "location": {
                        "province": province,
                        "city": city,
                        "county": county,
                        **({} if k == 0 else {"township": townships[k - 1]}),
                    },
                    "supported_by": f"{province}省科协",
                    "effective_date": _day(date(2016, 4, 1), 90 * k + 30 * ci),
                }
            )
    api.many(
        (
            "POST",
            "/associations",
            o,
            f"association:{o['credit_code']}",
            office(o["unit"]),
            (201, 409),
        )
        for o in organisations
    )

    api.many(
        (
            "POST",
            "/pairings",
            {
                "expert_id": ids[p["expert"]],
                "household_codes": [r["code"] for r in p["rows"]],
                "village": p["rows"][0]["village"],
                "start": p["start"].isoformat(),
                "end": LAST_DAY.isoformat(),
                "goals": "每户至少一名劳动力掌握1—2项实用技术",
                "tasks": "每月入村指导两次，建设示范田",
                "mechanism": "专家+合作社+农户",
                "effective_date": p["start"].isoformat(),
            },
            f"pairing:{p['expert']}",
            office(plan.experts[p["expert"]]["form"]["unit"]),
            (201, 409),
        )
        for p in plan.pairings
    )
    api.many(
        (
            "POST",
            "/service-logs",
            {
                "expert_id": ids[p["expert"]],
                "date": _day(p["start"], 20 + 40 * k),
                "place": p["rows"][0]["village"],
                "form": ("田间指导", "集中培训")[k],
                "content": f"{plan.experts[p['expert']]['form']['specialty']}技术指导",
                "participants": 8 + (p["expert"] + k) % 30,
                "hours": 4 + (p["expert"] + k) % 5,
            },
            f"log:{p['expert']}:{k}",
            office(plan.experts[p["expert"]]["form"]["unit"]),
        )
        for p in plan.pairings
        for k in range(1)
    )
    lifts = list(plan.lifted())
    api.many(
        (
            "POST",
            f"/households/{row['code']}/lifted-out",
            {"date": on.isoformat(), "people": row["people"], "effective_date": on.isoformat()},
            f"lifted:{row['code']}",
            office(SHANDONG if row["province"] == "山东" else SHANXI),
            (201, 409),
        )
        for row, on in lifts
    )
    log(
        f"sample data: {len(plan.experts)} experts, {len(organisations)} associations, "
        f"{len(plan.pairings)} pairings, {len(lifts)} households lifted out"
    )
    _targets(api, plan)


def _expert_ids(api, plan):
    """Register the experts; a retry of a key answers with the first registration, so an earlier
    load's ids come back the same."""
    if not hasattr(plan, "expert_ids"):
        plan.expert_ids = [
            a["id"]
            for a in api.many(
                ("POST", "/experts", e["form"], f"expert:{n}", office(e["form"]["unit"]))
                for n, e in enumerate(plan.experts)
            )
        ]
    return plan.expert_ids


def _targets(api, plan):
    """Targets a little above what each unit reaches, rising to 2020 (科技助力扶贫办发〔2017〕3号);
    the nation's are the sum of its units'."""
    experts = {
        u: sum(1 for e in plan.experts if e["form"]["unit"] == u)
        for u in (SHANDONG, SHANXI, SOCIETY)
    }
    paired = {
        u: sum(
            len(p["rows"]) for p in plan.pairings if plan.experts[p["expert"]]["form"]["unit"] == u
        )
        for u in experts
    }
    calls = []
    for year, share in ((2017, 0.5), (2018, 0.7), (2019, 0.9), (2020, 1.0)):
        nation, on = {}, f"{year}-01-10"
        for unit in experts:
            targets = {
                "experts": experts[unit] * 1.05,
                "households_paired": paired[unit] * 1.1,
                "people_in_paired_households": paired[unit] * 3.8,
                "households_lifted": paired[unit] * 0.1,
                "people_lifted": paired[unit] * 0.35,
            }
            if unit != SOCIETY:  # a society supports no associations of its own here
                shandong = unit == SHANDONG
                targets.update(federations=3 if shandong else 2, associations=10 if shandong else 6)
            targets = {m: max(1, round(v * share)) for m, v in targets.items()}
            for metric, value in targets.items():
                nation[metric] = nation.get(metric, 0) + value
            calls.append(
                ("PUT", f"/targets/{unit}", {"year": year, **targets, "effective_date": on})
            )
        calls.append(("PUT", "/targets/national", {"year": year, **nation, "effective_date": on}))
    api.many(calls)


CAMPAIGN = {
    "name": "2017年科技助力精准扶贫专项督查",
    "year": 2017,
    "cutoff": "2017-07-31",
    "self_inspection_due": "2017-08-10",
    "field_inspection_start": "2017-08-10",
    "field_inspection_end": "2017-08-20",
    "feedback_due": "2017-08-31",
    "rectification_due": "2017-09-30",
    "units": [SHANDONG, SHANXI, SOCIETY],
    "effective_date": "2017-07-20",
}
DECLARED = {
    "leading_group": True,
    "plan_issued": True,
    "regular_meetings": True,
    "tasks_and_targets_precise": True,
    "pairing_assessment_publicity": True,
    "fund_measures": True,
}


def _supervision(api, plan, log, loaded):
    campaign = api.call("POST", "/campaigns", CAMPAIGN, "campaign:2017")["id"]
    if loaded or api.call("GET", f"/campaigns/{campaign}").get("groups"):
        return campaign
    reports = ((SHANDONG, "2017-08-08", 0), (SHANXI, "2017-08-09", 1), (SOCIETY, "2017-08-12", 0))
    for unit, on, inflate in reports:  # 山西 inflates its figures; the society reports late
        counts = api.call("GET", "/two-counts", params={"unit": unit, "as_of": CAMPAIGN["cutoff"]})
        funds = api.call(
            "GET", "/funding/summary", params={"unit": unit, "as_of": CAMPAIGN["cutoff"]}
        )
        figures = {
            "federations": counts["federations"],
            "associations": counts["associations"],
            "experts": counts["experts"] + 12 * inflate,
            "households": counts["households_paired"] + 150 * inflate,
            "people": counts["people_in_paired_households"] + 520 * inflate,
            "project_funds_wan": funds["disbursed_wan"],
        }
        api.call(
            "POST",
            f"/campaigns/{campaign}/self-inspections",
            {
                "unit": unit,
                "declared": {**DECLARED, "fund_measures": not inflate},
                "figures": figures,
                "text": "自查报告：组织领导、两数、项目实施和资金管理情况。",
                "effective_date": on,
            },
            f"self-inspection:{unit}",
            office(unit),
        )
    api.call(
        "POST",
        f"/campaigns/{campaign}/field-inspections",
        {
            "groups": [
                {"name": "第一督查组", "inspectors": ["inspector:li"], "provinces": ["山西"]},
                {"name": "第二督查组", "inspectors": ["inspector:zhao"], "provinces": ["山东"]},
            ],
            "effective_date": "2017-08-01",
        },
    )

    def finding(unit, description, who, due=None, on="2017-08-15"):
        return api.call(
            "POST",
            f"/campaigns/{campaign}/findings",
            {
                "unit": unit,
                "description": description,
                "severity": "major",
                "requires_rectification": True,
                "due": due,
                "effective_date": on,
            },
            f"finding:{unit}:{description[:8]}",
            inspector(who),
        )["rectification_id"]

    def move(item, what, body, who):
        api.call("POST", f"/rectifications/{item}/{what}", body, as_=who)

    lvliang = county_body("city:山西/吕梁")
    verified = finding("city:山西/吕梁", "结对帮扶台账不完整，部分服务记录缺少参与人数", "li")
    move(verified, "progress", {"note": "逐村补齐台账", "effective_date": "2017-09-01"}, lvliang)
    move(
        verified,
        "submit",
        {
            "evidence": "补齐后的台账及签字记录",
            "evidence_hashes": ["ab" * 32],
            "effective_date": "2017-09-12",
        },
        lvliang,
    )
    move(
        verified,
        "verify",
        {"comment": "经核查，台账已补齐", "effective_date": "2017-09-20"},
        inspector("li"),
    )
    finding(SHANXI, "自查报告所填专家数、帮扶户数与实名登记数不符", "li", due="2017-09-15")
    move(
        finding(county_body("county:山西/吕梁/临县")[1], "专家服务站未挂牌运行", "li"),
        "progress",
        {"note": "已选址，正在装修", "effective_date": "2017-09-10"},
        county_body("county:山西/吕梁/临县"),
    )
    reopened = finding(SHANDONG, "部分结对帮扶协议未向省科协备案", "zhao", on="2017-08-18")
    move(
        reopened,
        "submit",
        {"evidence": "补充备案清单", "effective_date": "2017-09-25"},
        office(SHANDONG),
    )
    move(
        reopened,
        "reopen",
        {"reason": "备案清单与协议原件不符", "effective_date": "2017-10-09"},
        inspector("zhao"),
    )
    finding(
        "county:山东/菏泽/曹县", "帮扶资金拨付凭证不全", "zhao", due="2017-10-31", on="2017-08-18"
    )
    log(
        f"sample data: campaign {campaign} (2017 special supervision) with five rectification items"
    )
    return campaign


CHAIN = SHANDONG_PROGRAMME["approval_levels"]


def _funding(api, plan, log, loaded):
    programme = api.call(
        "POST",
        "/programmes",
        {**SHANDONG_PROGRAMME, "effective_date": "2016-03-01"},
        "programme:shandong",
        office(SHANDONG),
    )["id"]
    if (
        loaded
        or api.call("GET", "/funding/summary", params={"unit": SHANDONG})["approved_projects"]
    ):
        return programme
    expert_ids = _expert_ids(api, plan)
    shandong = [(n, e) for n, e in enumerate(plan.experts) if e["form"]["unit"] == SHANDONG]
    count = max(3, min(30, len(shandong) // 7))

    def reviewer(level, county):
        province, city, name = COUNTIES[county][:3]
        if level == "provincial_association":
            return office(SHANDONG)
        if level == "city_association":
            return county_body(f"city:{province}/{city}")
        return county_body(f"county:{province}/{city}/{name}")

    def project(k):
        n, expert = shandong[k * 7 % len(shandong)]
        province, city, county = COUNTIES[expert["county"]][:3]
        region = f"county:{province}/{city}/{county}"
        registered = date.fromisoformat(expert["form"]["effective_date"])
        year = max(2016 + k % 2, registered.year)
        applied = max(date(year, 4, 1), registered + timedelta(days=10))
        body = {
            "programme_id": programme,
            "kind": ("training", "industry", "popularisation")[k % 3],
            "applicant": {"type": "individual", "expert_id": expert_ids[n]},
            "region": region,
            "villages": list(COUNTIES[expert["county"]][6][:2]),
            "year": year,
            "content": f"{expert['form']['specialty']}技术服务：集中培训、入户指导、示范基地建设",
            "effective_date": applied.isoformat(),
        }
        applied_for = api.call(
            "POST", "/projects", body, f"project:{k}", reviewer("applicant_unit", expert["county"])
        )
        rejected_at = CHAIN[3] if k % 10 == 9 else None  # one in ten: the city association refuses
        for i, level in enumerate(CHAIN[:4] if rejected_at else CHAIN):
            refused = level == rejected_at
            api.call(
                "POST",
                f"/projects/{applied_for['id']}/reviews",
                {
                    "level": level,
                    "decision": "reject" if refused else "approve",
                    "comment": "帮扶村不在建档立卡贫困村名单" if refused else "同意",
                    "effective_date": _day(applied, 5 + i),
                },
                as_=reviewer(level, expert["county"]),
            )
        if rejected_at:
            return
        api.call(
            "POST",
            f"/projects/{applied_for['id']}/publicize",
            {"effective_date": _day(applied, 20)},
            as_=office(SHANDONG),
        )
        api.call(
            "POST",
            f"/projects/{applied_for['id']}/confirm",
            {"effective_date": _day(applied, 28)},
            as_=office(SHANDONG),
        )
        if k % 4 != 3:  # a few are approved but not paid yet
            api.call(
                "POST",
                "/disbursements",
                {
                    "project_id": applied_for["id"],
                    "year": year,
                    "amount_fen": 400_000,
                    "account": expert["form"]["bank_account"],
                    "effective_date": _day(applied, 45),
                },
                f"pay:{k}",
                office(SHANDONG),
            )

    list(api.pool.map(project, range(count)))
    log(f"sample data: programme {programme} (山东 expert service action) with {count} projects")
    return programme


def _awards(api, plan, log, round_id):
    expert_ids = _expert_ids(api, plan)
    shanxi = [n for n, e in enumerate(plan.experts) if e["form"]["unit"] == SHANXI][:2]
    teams = (
        ("沂蒙果树专家服务团", SHANDONG, 0),
        ("吕梁马铃薯专家服务团", SHANXI, 3),
        ("农学会科技服务团", SOCIETY, 0),
    )
    for name, unit, _ in teams:
        api.call(
            "POST",
            "/commendations",
            {
                "year": 2018,
                "category": "team",
                "unit": unit,
                "team_name": name,
                "effective_date": "2019-01-10",
            },
            f"commendation:{name[:4]}",
        )
    for n in shanxi:
        api.call(
            "POST",
            "/commendations",
            {
                "year": 2017,
                "category": "individual",
                "unit": SHANXI,
                "expert_id": expert_ids[n],
                "effective_date": "2018-01-10",
            },
            f"commendation:{n}",
        )
        api.call(
            "POST",
            f"/award-rounds/{round_id}/endorsements",
            {
                "expert_id": expert_ids[n],
                "effective_date": "2020-07-01",
                "justification": "带领团队推广脱毒马铃薯种薯，带动全县贫困户增收，成效特别突出",
            },
        )
    for name, unit, ci in teams:
        province, city, county, *_rest, townships, villages = COUNTIES[ci]
        api.call(
            "POST",
            f"/award-rounds/{round_id}/nominations",
            {
                "category": "team",
                "team_name": name,
                "field": SPECIALTIES[ci],
                "expert_count": 6,
                "leader": {"name": _name(ci + 40), "contact": "13800000001", "title": "研究员"},
                "area": {
                    "province": province,
                    "city": city,
                    "county": county,
                    "township": townships[0],
                    "village": villages[0],
                },
                "service_category": "planting",
                "service_mode": "extension",
                "experts": [],
                "people_lifted": 300 + 40 * ci,
                "service_days": 420,
                "honours": "2018年全国表扬",
                "deeds": "组建专家服务团，建设示范基地，结对帮扶建档立卡贫困户。",
                "effective_date": "2020-07-15",
            },
            f"nomination:{unit}",
            office(unit),
        )
    for n in shanxi:
        expert = plan.experts[n]["form"]
        api.call(
            "POST",
            f"/award-rounds/{round_id}/nominations",
            {
                "category": "individual",
                "expert_id": expert_ids[n],
                "political_status": "中共党员",
                "area": {
                    **expert["location"],
                    "township": COUNTIES[plan.experts[n]["county"]][5][0],
                    "village": COUNTIES[plan.experts[n]["county"]][6][0],
                },
                "service_category": "planting",
                "service_mode": "training",
                "people_lifted": 120,
                "service_days": 160,
                "deeds": "扎根贫困村，推广马铃薯脱毒种薯。",
                "honours": "2017年全国表扬",
                "effective_date": "2020-07-20",
            },
            f"nomination:{n}",
            office(SHANXI),
        )
    api.call("POST", f"/award-rounds/{round_id}/publicize", {"effective_date": "2020-08-20"})
    log(
        f"sample data: award round {round_id} (2020): {len(teams) + len(shanxi)} nominations, publicized"
    )
    return round_id
