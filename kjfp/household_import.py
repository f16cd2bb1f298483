"""Client side of the bulk import: read a CSV or JSON file and send it in chunks, with a progress bar.

Row numbers in the answer are the file's (counted from 1 after the CSV header)."""

import csv
import io
import json

import requests
from tqdm import tqdm


def read_rows(path):
    """CSV rows as dicts (the server reads the columns), or a JSON array's items. A CSV file is
    decoded as the server decodes an upload: UTF-8 (BOM or not) or GBK/GB18030, never a mix."""
    from gateway.imports import decode
    from kernel.errors import ValidationFailed

    with open(path, "rb") as source:
        data = source.read()
    if path.lower().endswith(".json"):
        return json.loads(data.decode("utf-8-sig"))
    try:
        text = decode(data)
    except ValidationFailed as refused:
        raise SystemExit(
            f"{path}: {refused.message}: {'; '.join(refused.details.get('_body', []))}"
        ) from None
    return list(csv.DictReader(io.StringIO(text, newline="")))


def _as_csv(rows):
    out = io.StringIO()
    writer = csv.DictWriter(out, rows[0].keys())
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def run(path, url, token, chunk=5000):
    rows = read_rows(path)
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    endpoint = url.rstrip("/") + "/api/v1/households/import"
    totals = {"created": 0, "duplicate": 0, "rejected": 0, "duplicates": [], "rejections": []}
    is_csv = not path.lower().endswith(".json")
    with tqdm(total=len(rows), unit="row", desc="import") as progress:
        for start in range(0, len(rows), chunk):
            part = rows[start : start + chunk]
            if is_csv:
                response = session.post(
                    endpoint,
                    data=_as_csv(part),
                    timeout=600,
                    headers={"Content-Type": "text/csv; charset=utf-8"},
                )
            else:
                response = session.post(endpoint, json=part, timeout=600)
            if response.status_code != 200:
                raise SystemExit(
                    f"import stopped at row {start + 1}: {response.status_code} {response.text[:500]}"
                )
            result = response.json()
            for key in ("created", "duplicate", "rejected"):
                totals[key] += result[key]
            for key in ("duplicates", "rejections"):
                totals[key] += [{**item, "row": (item["row"] or 0) + start} for item in result[key]]
            progress.update(len(part))
    return totals
