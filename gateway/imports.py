"""Bulk import of 建档立卡 household base data: a JSON array or a CSV file, validated row by row.

A bad row never fails the file: it is reported with its row number and reasons, and the good
rows are sent to the registry in batches (one RPC and one atomic write per batch). A file that
cannot be read as a whole (binary, mixed or unknown encoding, a column named twice, a field over
the csv module's limit) is refused with a 400 saying where."""

import codecs
import csv
import io
import re

from marshmallow import ValidationError, missing

from gateway.entrypoints import _flatten
from gateway.registry_schemas import HouseholdSchema
from gateway.requests import UNRECORDABLE, json_text, parse_json
from kernel import config
from kernel.concurrency import cooperative
from kernel.errors import ValidationFailed

# One RPC and one atomic write (a commit) per batch. Embedded, every request shares one eventlet
# hub: a batch of 500 holds it ~50 ms, and fewer commits halve the import's cost over 100. Distributed,
# the registry runs apart: fewer round trips. (Read when the module loads, as nameko fixes its
# entrypoints then; the environment decides.)
BATCH_SIZE = 500 if config.load().embedded else 1000
LOCATION_COLUMNS = ("province", "city", "county", "township", "village")
REQUIRED_COLUMNS = {"code", "head_name", "head_id_number", "people", "province"}
MAX_ROWS = 200_000
MAX_FIELD = 131_072  # the csv module's own limit: a longer field stops the file with a 400
WHOLE_NUMBER = re.compile(r"[0-9]{1,9}")  # ASCII digits only: "²".isdigit() is True, int("²") fails
# Chinese CSV files come as UTF-8 (often with a BOM, as Excel writes it) or as GBK: GB18030 decodes
# both GBK and GB2312, so it stands for all three.
GB = {"gb2312", "gbk", "gb18030", "cp936"}

# The import's bodies, for the OpenAPI document.
BODIES = {
    "application/json": {
        "schema": {"type": "array", "maxItems": MAX_ROWS, "items": HouseholdSchema}
    },
    "text/csv": {
        "schema": {
            "type": "string",
            "description": "UTF-8 (BOM or not) or GBK/GB18030; "
            "columns " + ", ".join(sorted(REQUIRED_COLUMNS) + ["city", "county"]),
        }
    },
    "multipart/form-data": {
        "schema": {
            "type": "object",
            "required": ["file"],
            "properties": {"file": {"type": "string", "format": "binary"}},
        }
    },
}


def parse(request):
    """The uploaded rows as dicts, whatever the upload's form (JSON array, CSV body or CSV file)."""
    upload = _upload(request)
    if upload is not None:
        return _csv_rows(decode(upload.read(), upload.mimetype_params.get("charset")))
    if "csv" in (request.mimetype or ""):
        return _csv_rows(decode(request.get_data(), request.mimetype_params.get("charset")))
    rows = parse_json(json_text(request))
    if not isinstance(rows, list):
        raise ValidationFailed(
            "expected a JSON array of households, or a CSV file",
            {"_body": ["expected a JSON array or CSV"]},
        )
    return rows


def _upload(request):
    try:
        files = request.files
    except ValueError as bad:  # a malformed multipart body
        raise ValidationFailed(
            "the upload is not a valid multipart form", {"_body": [type(bad).__name__]}
        ) from None
    return next(iter(files.values()), None)


def decode(data, declared=None):
    """CSV bytes → text, in the declared charset, else UTF-8 (with or without BOM) or GB18030,
    decided line by line: a file whose lines are in both is refused, never half garbled."""
    if b"\0" in data:
        raise ValidationFailed(
            "the upload is a binary file, not CSV text", {"_body": ["not a CSV text file"]}
        )
    if declared:
        return _decode_declared(data, declared.lower())
    utf8, other = [], []
    for number, line in enumerate(data.splitlines(), start=1):
        if not line.isascii():
            try:
                line.decode("utf-8")
                utf8.append(number)
            except UnicodeDecodeError:
                other.append(number)
    if utf8 and other:
        raise ValidationFailed(
            "the file mixes encodings",
            {
                "_body": [
                    f"UTF-8 on line {_lines(utf8)} but not on line {_lines(other)}: save the file in one encoding"
                ]
            },
        )
    return _decode_declared(data, "gb18030" if other else "utf-8")


def _decode_declared(data, charset):
    charset = "gb18030" if charset in GB else charset
    try:
        codec = codecs.lookup(charset).name
    except LookupError:
        raise ValidationFailed(
            f"unknown charset {charset!r}", {"_body": ["charset: UTF-8, GBK or GB18030"]}
        ) from None
    if codec not in ("utf-8", "gb18030"):
        raise ValidationFailed(
            f"charset {charset!r} is not taken", {"_body": ["charset: UTF-8, GBK or GB18030"]}
        )
    try:
        text = data.decode(codec).removeprefix("\ufeff")
    except UnicodeDecodeError as bad:
        line = data[: bad.start].count(b"\n") + 1
        raise ValidationFailed(
            f"the file is not {codec} text", {"_body": [f"line {line}: not {codec} text"]}
        ) from None
    control = UNRECORDABLE.search(text)
    if control:
        line = text.count("\n", 0, control.start()) + 1
        raise ValidationFailed(
            "the file holds a control character",
            {"_body": [f"line {line}: control character U+{ord(control.group()):04X}"]},
        )
    return text


def _lines(numbers):
    return ", ".join(map(str, numbers[:5])) + (", …" if len(numbers) > 5 else "")


def _csv_rows(text):
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [name.strip() for name in next(reader, [])]
        twice = sorted({name for name in header if header.count(name) > 1})
        if twice:
            raise ValidationFailed(
                "the CSV names a column twice: " + ", ".join(twice),
                {"_body": [f"column {name} appears twice" for name in twice]},
            )
        missing = REQUIRED_COLUMNS - set(header)
        if missing:
            raise ValidationFailed(
                "the CSV lacks columns: " + ", ".join(sorted(missing)),
                {"_body": [f"missing column {c}" for c in sorted(missing)]},
            )
        return [_row(header, values) for values in reader]
    except csv.Error as bad:
        raise ValidationFailed(
            "the CSV cannot be read", {"_body": [f"line {reader.line_num}: {_csv_reason(bad)}"]}
        ) from None


def _csv_reason(error):
    text = str(error)
    return f"a field longer than {MAX_FIELD:,} characters" if "field larger" in text else text


class Unreadable(str):
    """A CSV line that is no row: the reason it is rejected."""


def _row(header, values):
    """One CSV line as a household row; what does not fit is left for the schema to name."""
    if len(values) > len(header):
        return Unreadable(f"{len(values)} values but {len(header)} columns")
    record = dict(zip(header, values))
    row = {k: v for k, v in record.items() if k not in LOCATION_COLUMNS and v != ""}
    row["location"] = {k: record[k] for k in LOCATION_COLUMNS if record.get(k)}
    people = row.get("people", "").strip()
    if WHOLE_NUMBER.fullmatch(people):
        row["people"] = int(people)
    return row


def validate(rows):
    """Split rows into loaded ones (numbered from 1) and rejections with field reasons."""
    if len(rows) > MAX_ROWS:
        raise ValidationFailed(f"at most {MAX_ROWS} rows per request", {"_body": ["too many rows"]})
    schema, good, rejected, places = HouseholdSchema(), [], [], {}
    for number, row in enumerate(cooperative(rows), start=1):  # other requests go on meanwhile
        if not isinstance(row, dict):
            reason = row if isinstance(row, Unreadable) else "not an object"
            rejected.append({"row": number, "code": None, "reasons": {"_row": [reason]}})
            continue
        try:
            good.append({**_load(schema, row, places), "row": number})
        except ValidationError as invalid:
            rejected.append(
                {"row": number, "code": row.get("code"), "reasons": _flatten(invalid.messages)}
            )
    return good, rejected


# The one hook of HouseholdSchema that ``_load`` runs itself: were another added, rows would go
# through ``schema.load`` (slower, never wrong).
REPLAYED_HOOKS = {"validates": [("down_to_county", False, {"field_names": ("location",)})]}


def _load(schema, row, places):
    """``schema.load(row)`` (a HouseholdSchema): the same rules and result at a fraction of the
    cost for the usual row, whose every field loads: field by field, and each distinct location
    (an import's rows share a few villages) loaded once. Any other row goes through
    ``schema.load``, so that its errors are collected and named as everywhere else."""
    fields = schema.fields
    if not row.keys() <= fields.keys() or dict(type(schema)._hooks) != REPLAYED_HOOKS:
        return schema.load(row)  # unknown fields, or a hook this loader would not run
    try:
        loaded = {}
        for name, field in fields.items():
            value = row.get(name, missing)
            key = _place_key(value) if name == "location" else None
            if key is None:
                loaded[name] = field.deserialize(value, name, row)
                continue
            if key not in places:
                places[key] = field.deserialize(value, name, row)
            loaded[name] = dict(places[key])
        schema.down_to_county(loaded["location"], data_key="location")
    except ValidationError:
        return schema.load(row)
    return loaded


def _place_key(value):
    """A location of text only, as a key (None for anything else: loaded each time)."""
    if type(value) is dict and all(type(v) is str for v in value.values()):
        return tuple(value.items())
    return None


def batches(rows, size=BATCH_SIZE):
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def summary(results, rejected):
    created = [c for r in results for c in r["created"]]
    duplicates = [d for r in results for d in r["duplicates"]]
    rejected = sorted(
        rejected + [x for r in results for x in r["rejected"]], key=lambda x: x["row"] or 0
    )
    return {
        "created": len(created),
        "duplicate": len(duplicates),
        "rejected": len(rejected),
        "duplicates": duplicates,
        "rejections": rejected,
    }
