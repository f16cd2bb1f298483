"""Bulk import of 建档立卡 household base data: a JSON array or a CSV file, validated row by row.

A bad row never fails the file: it is reported with its row number and reasons, and the good
rows are sent to the registry in batches (one RPC and one atomic write per batch)."""
import csv
import io
import json

from marshmallow import ValidationError

from gateway.entrypoints import _flatten
from gateway.schemas import HouseholdSchema
from kernel.errors import ValidationFailed

BATCH_SIZE = 1000
LOCATION_COLUMNS = ("province", "city", "county", "township", "village")
MAX_ROWS = 200_000


def parse(request):
    """The uploaded rows as dicts, whatever the upload's form (JSON array, CSV body or CSV file)."""
    if request.files:
        upload = next(iter(request.files.values()))
        return _csv_rows(upload.read().decode("utf-8-sig"))
    text = request.get_data(as_text=True)
    if "csv" in (request.content_type or ""):
        return _csv_rows(text.lstrip("\ufeff"))
    try:
        rows = json.loads(text or "null")
    except (ValueError, RecursionError) as bad:
        raise ValidationFailed("the body is not valid JSON", {"_body": [f"invalid JSON: {bad}"]})
    if not isinstance(rows, list):
        raise ValidationFailed("expected a JSON array of households, or a CSV file",
                               {"_body": ["expected a JSON array or CSV"]})
    return rows


def _csv_rows(text):
    reader = csv.DictReader(io.StringIO(text))
    missing = {"code", "head_name", "head_id_number", "people", "province"} - set(reader.fieldnames or [])
    if missing:
        raise ValidationFailed("the CSV lacks columns: " + ", ".join(sorted(missing)),
                               {"_body": [f"missing column {c}" for c in sorted(missing)]})
    rows = []
    for record in reader:
        row = {k: v for k, v in record.items() if k not in LOCATION_COLUMNS and v not in (None, "")}
        row["location"] = {k: record[k] for k in LOCATION_COLUMNS if record.get(k)}
        if row.get("people", "").isdigit():
            row["people"] = int(row["people"])
        rows.append(row)
    return rows


def validate(rows):
    """Split rows into loaded ones (numbered from 1) and rejections with field reasons."""
    if len(rows) > MAX_ROWS:
        raise ValidationFailed(f"at most {MAX_ROWS} rows per request", {"_body": ["too many rows"]})
    schema, good, rejected = HouseholdSchema(), [], []
    for number, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            rejected.append({"row": number, "code": None, "reasons": {"_row": ["not an object"]}})
            continue
        try:
            good.append({**schema.load(row), "row": number})
        except ValidationError as invalid:
            rejected.append({"row": number, "code": row.get("code"), "reasons": _flatten(invalid.messages)})
    return good, rejected


def batches(rows, size=BATCH_SIZE):
    for start in range(0, len(rows), size):
        yield rows[start:start + size]


def summary(results, rejected):
    created = [c for r in results for c in r["created"]]
    duplicates = [d for r in results for d in r["duplicates"]]
    rejected = sorted(rejected + [x for r in results for x in r["rejected"]], key=lambda x: x["row"] or 0)
    return {"created": len(created), "duplicate": len(duplicates), "rejected": len(rejected),
            "duplicates": duplicates, "rejections": rejected}
