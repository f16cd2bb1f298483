"""Issue 13's must-have fuzz test: every operation of the OpenAPI document the embedded system
SERVES (in-process memory:// transport, SQLite event stores, the embedded view store) is driven
with requests generated from its own JSON schemas (mapped to hypothesis strategies here: the
document uses a small subset, and hypothesis-jsonschema fails on this hypothesis), with those
bodies broken in one field, and with arbitrary JSON, under valid tokens of several roles. No
answer may be a 5xx; every 4xx is the error contract.

Generated values are steered towards real records now and then (known ids, units, places, ID
numbers) so that requests get past validation into the services. Bounded: ``FUZZ_EXAMPLES``
examples per operation (default 50), no deadline; about two minutes here."""

import copy
import json
import os
import re
from urllib.parse import quote

import pytest
import requests

# hypothesis loads every installed package's "hypothesis" plugin at import; trio's (if installed)
# cannot be imported under eventlet's monkey-patched socket. This test needs none of them.
os.environ.setdefault("HYPOTHESIS_NO_PLUGINS", "1")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from kjfp import sample_data
from services.registry.tests.forms import household_form
from tests.http_client import start_system

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "50"))
ROLES = [("national_office", "national")] * 4 + [  # most operations are the national office's
    ("provincial_office", "province:山东"),
    ("county_association", "county:山东/临沂/沂南"),
    ("society", "society:中国农学会"),
    ("inspector", "national"),
    ("expert", "province:山东"),
    ("auditor", "national"),
]
UNITS = [
    "national",
    "province:山东",
    "province:山西",
    "city:山东/临沂",
    "county:山东/临沂/沂南",
    "society:中国农学会",
]
LOCATIONS = [
    {
        "province": "山东",
        "city": "临沂",
        "county": "沂南",
        "township": "依汶镇",
        "village": "西岭村",
    },
    {"province": "山西", "city": "吕梁", "county": "岚县"},
]
ID_NUMBERS = [sample_data.id_number("371321", "19980101", f"{n:03d}") for n in range(5)]
PRINTABLE = st.characters(
    exclude_categories=("Cc", "Cs")
)  # control characters: refused at the body
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(PRINTABLE, max_size=20)
    | st.text(max_size=5)
)
JSON = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)


@pytest.fixture(scope="module")
def system(tmp_path_factory):
    service_runner, client = start_system(tmp_path_factory.mktemp("fuzz"))
    yield client
    service_runner.stop()


def seeded(api):
    """Real records to aim at: a small living sample (registers, a campaign, a programme, an
    award round) and a few households of known codes."""
    ids = sample_data.load(
        api.base,
        lambda role, scope, subject: api.token(role, scope, subject),
        log=lambda *_: None,
        households=60,
        experts=6,
    )
    assert all(ids.values()), ids
    codes = [f"37132199{n:04d}" for n in range(3)]
    for code in codes:
        assert api.post("/households", household_form(code)).status_code == 201
    return {
        "expert_id": [e["id"] for e in api.get("/experts").json()["items"]][:20],
        "code": codes,
        "credit_code": ["91370000MA3C5XXX0X"],
        "campaign_id": [ids["campaign"]],
        "programme_id": [ids["programme"]],
        "round_id": [ids["round"]],
    }


def inline(schema, components):
    """The schema with its ``$ref``s replaced and OpenAPI's ``nullable`` as JSON Schema's null type."""
    if isinstance(schema, list):
        return [inline(s, components) for s in schema]
    if not isinstance(schema, dict):
        return schema
    if "$ref" in schema:
        return inline(components[schema["$ref"].rsplit("/", 1)[-1]], components)
    out = {k: inline(v, components) for k, v in schema.items() if k not in ("nullable", "default")}
    if schema.get("nullable"):
        out = {"anyOf": [out, {"type": "null"}]}
    return out


def from_schema(schema):
    """A strategy for values of ``schema``: mostly valid ones, with the edges (bounds, lengths,
    patterns matched by generated text that may end in a newline) the validators must handle."""
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if "anyOf" in schema:
        return st.one_of([from_schema(s) for s in schema["anyOf"]])
    kind = schema.get("type")
    if kind == "object":
        properties = {name: from_schema(s) for name, s in schema.get("properties", {}).items()}
        required = set(schema.get("required", []))
        extra = schema.get("additionalProperties")
        fixed = st.fixed_dictionaries(
            {k: v for k, v in properties.items() if k in required},
            optional={k: v for k, v in properties.items() if k not in required},
        )
        if isinstance(extra, dict):
            more = st.dictionaries(st.text(max_size=30), from_schema(extra), max_size=3)
            return st.tuples(fixed, more).map(lambda pair: {**pair[1], **pair[0]})
        return fixed
    if kind == "array":
        return st.lists(
            from_schema(schema.get("items", {})),
            min_size=schema.get("minItems", 0),
            max_size=min(schema.get("maxItems", 5), 5),
        )
    if kind == "integer":
        return st.integers(schema.get("minimum", -(2**70)) - 1, schema.get("maximum", 2**70) + 1)
    if kind == "number":
        return st.floats(
            schema.get("minimum"), schema.get("maximum"), allow_nan=False, allow_infinity=False
        )
    if kind == "boolean":
        return st.booleans()
    if kind == "string":
        if schema.get("format") == "date":
            return st.dates().map(str) | st.text(max_size=12)
        if schema.get("format") == "email":
            return st.emails() | st.text(max_size=30)
        if "pattern" in schema:
            return st.from_regex(re.compile(schema["pattern"]), alphabet=PRINTABLE)
        return st.text(
            PRINTABLE,
            min_size=schema.get("minLength", 0),
            max_size=min(schema.get("maxLength", 40), 40) + 1,
        )
    return JSON


def steered(schema, known, name=""):
    """Now and then a real value where the schema alone would almost never produce one."""
    if not isinstance(schema, dict):
        return schema
    schema = {
        k: (
            {p: steered(s, known, p) for p, s in v.items()}
            if k == "properties"
            else steered(v, known)
            if k == "items"
            else v
        )
        for k, v in schema.items()
    }
    real = {
        "unit": UNITS,
        "region": UNITS[1:5],
        "location": LOCATIONS,
        "area": LOCATIONS,
        "id_number": ID_NUMBERS,
        "head_id_number": ID_NUMBERS,
        "expert_id": known.get("expert_id", []),
        "programme_id": known.get("programme_id", []),
        "effective_date": ["2020-07-01"],
    }.get(name)
    return {"anyOf": [{"enum": real}, schema]} if real else schema


def mutate(value, choice, replacement):
    """``value`` with one part removed or replaced: valid but for one field, as a client's mistake is."""
    places, stack = [], [(None, None, value)]
    while stack:
        parent, key, item = stack.pop()
        if parent is not None:
            places.append((parent, key))
        children = (
            item.items()
            if isinstance(item, dict)
            else enumerate(item)
            if isinstance(item, list)
            else ()
        )
        stack.extend((item, k, v) for k, v in children)
    if not places:
        return replacement
    parent, key = places[choice % len(places)]
    if choice % 2 and isinstance(parent, dict):
        del parent[key]
    else:
        parent[key] = replacement
    return value


def operations(document):
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


def request_strategy(path, operation, components, known):
    params = operation.get("parameters", [])
    path_values = {
        p["name"]: st.sampled_from(known[p["name"]]) | st.text(min_size=1, max_size=30)
        if known.get(p["name"])
        else st.text(min_size=1, max_size=30)
        for p in params
        if p["in"] == "path"
    }
    if "{unit}" in path:
        path_values["unit"] = st.sampled_from(UNITS) | st.text(min_size=1, max_size=30)
    query = {
        p["name"]: from_schema(steered(inline(p["schema"], components), {}, p["name"])).map(str)
        | st.text(max_size=20)
        for p in params
        if p["in"] == "query"
    }
    required = {p["name"] for p in params if p["in"] == "query" and p.get("required")}
    content = operation.get("requestBody", {}).get("content", {})
    bodies = []
    if "application/json" in content:
        schema = steered(inline(content["application/json"]["schema"], components), known)
        valid = from_schema(schema)
        mutated = st.builds(mutate, valid, st.integers(0, 10_000), SCALARS)
        bodies.append(st.tuples(st.just("json"), valid | mutated | JSON))
    if "text/csv" in content:
        bodies.append(st.tuples(st.just("csv"), CSV_FILES, CHARSETS))
    if "multipart/form-data" in content:
        bodies.append(st.tuples(st.just("file"), CSV_FILES | st.binary(max_size=2000), CHARSETS))
    body = st.one_of(bodies) if bodies else st.none()
    return st.fixed_dictionaries(
        {
            "path": st.fixed_dictionaries(path_values),
            "query": st.fixed_dictionaries(
                {k: v for k, v in query.items() if k in required},
                optional={k: v for k, v in query.items() if k not in required},
            ),
            "body": body,
            "role": st.sampled_from(ROLES),
            "idempotency_key": st.none() | st.from_regex(r"[!-~][ -~]{0,249}", fullmatch=True),
        }
    )


CSV_HEADER = "code,head_name,head_id_number,people,province,city,county"
CSV_CELLS = st.text(max_size=12) | st.sampled_from(
    [
        "3713210001",
        "张三",
        ID_NUMBERS[0],
        "4",
        "²",
        "9" * 5000,
        "山东",
        "临沂",
        "沂南",
        '"',
        ",",
        "\r\n",
    ]
)
CSV_FILES = st.builds(
    lambda header, rows, encoding: (header + "\n" + "\n".join(",".join(r) for r in rows)).encode(
        encoding, errors="replace"
    ),
    st.sampled_from([CSV_HEADER, CSV_HEADER + ",code", "\ufeff" + CSV_HEADER, "code", ""]),
    st.lists(st.lists(CSV_CELLS, max_size=9), max_size=4),
    st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "gbk", "utf-16"]),
)
CHARSETS = st.sampled_from([None, "utf-8", "GBK", "gb18030", "latin-1", "no-such-charset"])


def body_arguments(body):
    """The ``requests`` arguments sending a generated body."""
    if body is None:
        return {}
    if body[0] == "json":
        return {
            "data": json.dumps(body[1], ensure_ascii=False).encode(),
            "headers": {"Content-Type": "application/json"},
        }
    kind, data, charset = body
    content_type = "text/csv" + (f"; charset={charset}" if charset else "")
    if kind == "csv":
        return {"data": data, "headers": {"Content-Type": content_type}}
    return {"files": {"file": ("base.csv", data, content_type)}}


def check(api, path, method, request):
    url = path
    for name, value in request["path"].items():
        url = url.replace("{" + name + "}", quote(value, safe=":/" if name == "unit" else ""))
    role, scope = request["role"]
    kwargs = {"params": request["query"], "token": api.token(role, scope)}
    kwargs.update(body_arguments(request["body"]))
    if request["idempotency_key"] is not None and method in ("post", "put"):
        kwargs.setdefault("headers", {})["Idempotency-Key"] = request["idempotency_key"]
    response = api.call(method.upper(), url, **kwargs)
    if os.environ.get("FUZZ_STATS"):
        with open(os.environ["FUZZ_STATS"], "a") as out:
            out.write(f"{method} {path} {response.status_code} {response.text[:150]}\n")
    where = (
        f"{method.upper()} {url} as {role} {scope}: {response.status_code} {response.text[:300]}"
    )
    assert response.status_code < 500, where
    if response.status_code >= 400:
        body = response.json()
        assert isinstance(body, dict) and set(body) == {"error", "message", "details"}, where
        assert isinstance(body["details"], dict), where


def test_no_generated_request_gets_a_5xx_and_every_refusal_is_the_contract(system):
    """Issue 13 must-have: fuzz the served OpenAPI document; every 5xx it finds is a bug."""
    api = system
    document = requests.get(api.base + "/api/v1/openapi.json", timeout=30).json()
    components = document["components"]["schemas"]
    known = seeded(api)
    failures = []
    for path, method, operation in operations(document):

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
            derandomize=not os.environ.get("FUZZ_RANDOM"),
        )  # the same requests on every CI run
        @given(request=request_strategy(path, operation, components, known))
        def fuzz(request):
            check(api, path, method, copy.deepcopy(request))  # noqa: B023 - run before the loop moves on

        try:
            fuzz()
        except AssertionError as failure:
            failures.append(str(failure).splitlines()[0])
    assert not failures, "\n".join(failures)
