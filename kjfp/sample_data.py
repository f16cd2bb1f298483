"""A small, believable sample: two Shandong counties, experts, households and pairings.

Loaded through the public HTTP API, exactly as a client would, so it also shows how to use it.
Re-running it is harmless: what is already registered answers 409 and is skipped.
"""
import requests
from stdnum.cn import ric


def id_number(region="371321", birth="19950101", seq="123"):
    """A GB 11643-valid ID number (region code valid at the birth date, right check digit)."""
    body = f"{region}{birth}{seq}"
    return body + ric.calc_check_digit(body + "0")


YINAN = {"province": "山东", "city": "临沂", "county": "沂南"}
LANSHAN = {"province": "山东", "city": "临沂", "county": "兰山"}

EXPERTS = [
    dict(name="王建国", gender="male", id_number=id_number("371321", "19960312", "011"), employer="山东农业大学",
         title="研究员", specialty="果树栽培", phone="13800000001", unit="province:山东", location=YINAN),
    dict(name="李秀英", gender="female", id_number=id_number("371302", "19970805", "022"),
         employer="临沂市农业科学院", title="高级农艺师", specialty="蔬菜种植", phone="13800000002",
         unit="province:山东", location=LANSHAN),
]
HOUSEHOLDS = [
    dict(code=f"3713210{n:05d}", head_name=name, head_id_number=id_number("371321", f"1998010{n}", f"{n:03d}"),
         people=people, location={**YINAN, "township": "依汶镇", "village": "西岭村"})
    for n, (name, people) in enumerate([("张三", 4), ("赵四", 3), ("孙五", 5), ("周六", 2)], start=1)
]


def load(base_url, token, log=print):
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    api = base_url.rstrip("/") + "/api/v1"

    def post(path, body):
        response = session.post(api + path, json=body, timeout=30)
        if response.status_code not in (201, 409):
            raise RuntimeError(f"POST {path}: {response.status_code} {response.text}")
        return response

    expert_ids = []
    for expert in EXPERTS:
        response = post("/experts", {**expert, "effective_date": "2020-01-06"})
        if response.status_code == 201:
            expert_ids.append(response.json()["id"])
    for household in HOUSEHOLDS:
        post("/households", {**household, "effective_date": "2020-01-06"})
    if expert_ids:
        post("/pairings", {
            "expert_id": expert_ids[0], "household_codes": [h["code"] for h in HOUSEHOLDS[:3]],
            "village": "西岭村", "start": "2020-02-01", "end": "2020-12-31",
            "goals": "三户掌握苹果矮化密植技术", "tasks": "每月入村指导两次", "mechanism": "专家+合作社+农户",
            "effective_date": "2020-02-01"})
    figures = session.get(api + "/two-counts", params={"unit": "province:山东"}, timeout=30).json()
    log(f"sample data loaded; 两数 for province:山东: {figures}")
    return figures
