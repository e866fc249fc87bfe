"""The vectorised validator agrees with the jsonschema library on our schema, record by record.

The corpus is generated (hypothesis) from the schema file itself: for every property, values
that should pass and values built to break each keyword (wrong JSON types, NaN, infinities,
huge integers, bounds and their neighbours, near-miss enum values, calendar-impossible and
zone-less timestamps, a trailing newline, Unicode digits, ...), plus unknown fields and
records that are not objects. For each record, the set of failing paths and the code at each
path must be the same; jsonschema's errors at one path are reduced with odse's precedence
(type before bounds, and so on), since odse reports one error per field.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import random
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from odse import validate_batch
from odse.cli import cli
from odse.records import known_fields, record_schema
from odse.validation import codes

SCHEMA = record_schema()
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
PROPS: dict[str, dict[str, Any]] = SCHEMA["properties"]
DEFS: dict[str, dict[str, Any]] = SCHEMA["$defs"]
REQUIRED = SCHEMA["required"]
OPTIONAL = [name for name in PROPS if name not in REQUIRED]
FLOAT_MAX = sys.float_info.max

_KEYWORD_CODES = {
    "required": codes.REQUIRED_FIELD_MISSING,
    "type": codes.TYPE_MISMATCH,
    "enum": codes.ENUM_MISMATCH,
    "const": codes.ENUM_MISMATCH,
    "minimum": codes.OUT_OF_BOUNDS,
    "maximum": codes.OUT_OF_BOUNDS,
    "exclusiveMinimum": codes.OUT_OF_BOUNDS,
    "exclusiveMaximum": codes.OUT_OF_BOUNDS,
    "oneOf": codes.OUT_OF_BOUNDS,
    "pattern": codes.PATTERN_MISMATCH,
}
_RANK = {code: i for i, code in enumerate(codes.FIELD_PRECEDENCE)}


def jsonschema_verdict(record: Any) -> dict[str, str]:
    """Return {path: code} for one record as the jsonschema library judges it."""
    found: dict[str, str] = {}
    for error in VALIDATOR.iter_errors(record):
        code = _KEYWORD_CODES[error.validator]
        if error.validator == "required":
            paths = [f"$.{name}" for name in error.validator_value if name not in record]
        else:
            parts = list(error.absolute_path)
            paths = [f"$.{parts[0]}" if parts else "$"]
        for path in paths:
            if path not in found or _RANK[code] < _RANK[found[path]]:
                found[path] = code
    return found


def odse_verdicts(records: Any) -> list[dict[str, str]]:
    """Return {path: code} per record as validate_batch judges them."""
    result = validate_batch(records)
    out: list[dict[str, str]] = [{} for _ in range(result.total)]
    for index, error in result.errors:
        assert error.path not in out[index], f"two errors at {error.path} for record {index}"
        out[index][error.path] = error.code
    assert result.invalid == sum(1 for v in out if v)
    return out


# ---- value pools and strategies, read from the schema -----------------------------------------
# Hypothesis spends most of its time per draw, so each field's good and broken values are
# prepared once as a pool (one draw picks one), with a generative strategy mixed in.

def _keywords(name: str) -> dict[str, Any]:
    prop = dict(PROPS[name])
    ref = prop.pop("$ref", None)
    merged = dict(DEFS[ref.rsplit("/", 1)[1]]) if ref else {}
    for key, value in prop.items():
        if key in ("minimum", "maximum") and key in merged:
            tighter = max if key == "minimum" else min
            merged[key] = tighter(value, merged[key])
        else:
            merged[key] = value
    return merged


RNG = random.Random(20260209)
# (complex is left out: jsonschema counts it a number and then fails comparing it with a
# bound; odse calls it a TYPE_MISMATCH, see test_validation_schema.py)
WRONG_TYPES = [None, True, False, 0, 1, -3, 2.5, "", "12.5", "x", [], [1], {}, {"a": 1},
               ("t",), b"bytes"]
HUGE_INTS = [10**400, -(10**400), 2**64, -(2**63) - 1, 2**1024]
SAMPLE_IDS = [  # identifiers that match one of the id patterns, or nearly
    "nersa:gen:SOLARPK-001", "za-nersa:trader:ENPOWER-001", "za-eskom:national:TOU-2026:v3",
    "za-city-capetown:cpt:LT-MD-2026:v1", "ZAR", "USD", "zar", "ZA", "Nersa:gen:X",
    "a:b:c:d", "a:b", "a.b_c-d:e:F9", "x:y:z:v", "x:y:z:v12", "\u20acUR", "nersa:gen:SOLAR PK",
    "ZAR\n", "nersa:gen:X\n", " ZAR", "\u0661:b:c",
]


def number_pool(name: str) -> list[Any]:
    kw = _keywords(name)
    low, high = kw.get("minimum", -FLOAT_MAX), kw.get("maximum", FLOAT_MAX)
    pool: list[Any] = [low, high, math.nan, math.inf, -math.inf, FLOAT_MAX, -FLOAT_MAX,
                       -1.0, -1e-300, 0, 0.0, -0.0, 1, *HUGE_INTS, *WRONG_TYPES]
    for bound in (low, high):
        if abs(bound) < FLOAT_MAX:
            pool += [bound - 1e-9, bound + 1e-9, bound - 1, bound + 1, int(bound),
                     math.nextafter(bound, -math.inf), math.nextafter(bound, math.inf)]
    span_low, span_high = max(low, -1e6), min(high, 1e6)
    pool += [RNG.uniform(span_low, span_high) for _ in range(40)]
    pool += [RNG.randint(int(span_low), int(span_high)) for _ in range(10)]
    pool += [RNG.uniform(-1e6, 1e6) for _ in range(10)]
    return pool


def timestamp_pool() -> list[str]:
    # Fields drawn over ranges a little wider than the calendar's, so impossible dates
    # (31 April, 29 February of 2100, hour 24, second 60) come up beside real ones.
    pool = []
    for _ in range(600):
        year = RNG.choice([0, 1, 1900, 1970, 2000, 2024, 2025, 2026, 2100, 9999])
        month, day = RNG.randint(0, 13), RNG.choice([1, 9, 28, 29, 30, 31, 0, 32])
        hour, minute, second = RNG.randint(0, 24), RNG.randint(0, 60), RNG.randint(0, 60)
        if RNG.random() < 0.7:  # mostly plausible, so that the other keywords get exercised
            month, hour, minute, second = RNG.randint(1, 12), RNG.randint(0, 23), \
                RNG.randint(0, 59), RNG.randint(0, 59)
        text = f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}"
        text += RNG.choice(["", "", "", ".5", ".123456", ".1234567891234", "."])
        text += RNG.choice(["Z", "Z", "Z", "+02:00", "-05:30", "+14:00", "+24:00", "-00:00",
                            "+0200", "", "z", "+02"])
        mutate = RNG.randint(0, 14)
        if mutate == 0:
            text = text.replace("T", " ")
        elif mutate == 1:
            text = text.replace("T", "t")
        elif mutate == 2:
            text += "\n"
        elif mutate == 3:
            text = " " + text
        elif mutate == 4:
            text = text[:16] + text[19:]  # no seconds
        elif mutate == 5:
            text = text.replace("2", "\u0662", 1)  # an Arabic-Indic digit
        elif mutate == 6:
            text = text[:10]
        pool.append(text)
    return [*pool, "2026-02-09T12:00:00Z", "2024-02-29T00:00:00Z", "2100-02-29T00:00:00Z",
            "2000-02-29T00:00:00+01:00", *WRONG_TYPES]


def enum_pool(name: str) -> list[Any]:
    allowed = list(PROPS[name]["enum"])
    return [*allowed, *allowed, *(v.upper() for v in allowed), *(v + " " for v in allowed),
            "", "Normal", "degraded", "bad", *WRONG_TYPES]


def pool_for(name: str) -> list[Any]:
    kw = _keywords(name)
    if "enum" in kw:
        return enum_pool(name)
    if kw.get("pattern") == DEFS["date_time"]["pattern"]:
        return timestamp_pool()
    if "pattern" in kw:
        return [*kw.get("examples", []), *SAMPLE_IDS, *WRONG_TYPES]
    if kw["type"] == "number":
        return number_pool(name)
    if kw["type"] == "boolean":
        return [True, False, True, False, 0, 1, "true", *WRONG_TYPES]
    return ["", "x", "SITE-ALPHA", "\u00e9t\u00e9", "a\nb", *WRONG_TYPES]


def _generated(name: str) -> list[Any]:
    """Values drawn at random over the whole type, beside the hand-built ones."""
    kind = _keywords(name)["type"]
    if kind == "number":
        return [RNG.choice([RNG.uniform(-1e300, 1e300), RNG.gauss(0, 100),
                            RNG.randint(-(10**20), 10**20)]) for _ in range(30)]
    if kind == "string":
        alphabet = "aZ09:._- \n\u00e9\u0663\U0001f600"
        return ["".join(RNG.choice(alphabet) for _ in range(RNG.randint(0, 8)))
                for _ in range(30)]
    return []


POOLS = {name: pool_for(name) + _generated(name) for name in PROPS}
VALUES = {name: st.sampled_from(pool) for name, pool in POOLS.items()}
REQUIRED_SHAPES = [REQUIRED] * 12 + [[f for f in REQUIRED if f != skip] for skip in REQUIRED] \
    + [[]]
NON_OBJECTS = [None, 5, "record", [], [{"timestamp": "2026-02-09T12:00:00Z"}], 2.5, True]
UNKNOWN = [("asset_tag", "x"), ("kVAh", 1.5), ("year", 2026), ("nested", {"a": [1]}),
           ("", None), ("Kwh", -1)]


@st.composite
def records(draw: Any) -> Any:
    if draw(st.integers(0, 70)) == 0:
        return draw(st.sampled_from(NON_OBJECTS))
    names = list(draw(st.sampled_from(REQUIRED_SHAPES)))
    names += [draw(st.sampled_from(OPTIONAL)) for _ in range(draw(st.integers(0, 5)))]
    record: dict[str, Any] = {name: draw(VALUES[name]) for name in names}
    extra = draw(st.integers(0, 15))
    if extra < 4:  # direction decides whether a negative kWh is allowed
        record["direction"] = ["net", "net", "generation", "consumption"][extra]
    elif extra < 4 + len(UNKNOWN) and extra % 2:
        key, value = UNKNOWN[extra - 4]
        record[key] = value
    return record


SEEN: list[int] = []
# A fresh corpus each run (no derandomize): 260 batches of 40 to 60 records, so at least 10,400.
CORPUS_SETTINGS = settings(
    max_examples=260, deadline=None, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.large_base_example],
)


@CORPUS_SETTINGS
@given(st.lists(records(), min_size=40, max_size=60))
def check_batch_agrees(batch: list[Any]) -> None:
    SEEN.append(len(batch))
    ours = odse_verdicts(batch)
    for index, record in enumerate(batch):
        assert ours[index] == jsonschema_verdict(record), (index, record)


def test_agrees_with_jsonschema_on_a_generated_corpus() -> None:
    SEEN.clear()
    check_batch_agrees()
    assert sum(SEEN) >= 10_000, f"corpus had {sum(SEEN)} records"


# ---- hand-picked records the generator might not reach --------------------------------------

EDGE_RECORDS = [
    {"timestamp": "2026-02-09T12:00:00Z", "kWh": 0, "error_type": "normal"},
    {"timestamp": "2026-02-09T12:00:00Z", "kWh": -0.0, "error_type": "normal"},
    {"timestamp": "2026-02-09T12:00:00Z\n", "kWh": 1, "error_type": "normal"},
    {"timestamp": "2026-02-09T12:00:00.1234567891234Z", "kWh": 1, "error_type": "normal"},
    {"timestamp": "2024-02-29T00:00:00+14:00", "kWh": 1, "error_type": "normal"},
    {"timestamp": "2100-02-29T00:00:00Z", "kWh": 1, "error_type": "normal"},
    {"timestamp": "2000-02-29T00:00:00Z", "kWh": 1, "error_type": "normal"},
    {"timestamp": "0000-02-29T00:00:00Z", "kWh": 1, "error_type": "normal"},
    {"timestamp": "2026-02-09T12:00:00Z", "kWh": 10**400, "error_type": "normal"},
    {"timestamp": "2026-02-09T12:00:00Z", "kWh": -(10**400), "error_type": "normal",
     "direction": "net"},
    {"timestamp": "2026-02-09T12:00:00Z", "kWh": FLOAT_MAX, "error_type": "normal"},
    {"timestamp": "2026-02-09T12:00:00Z", "kWh": -1, "error_type": "normal", "direction": 5},
    {"timestamp": "2026-02-09T12:00:00Z", "kWh": -1, "error_type": "normal",
     "direction": None},
    {"timestamp": "2026-02-09T12:00:00Z", "kWh": True, "error_type": True},
    {"timestamp": "2026-02-09T12:00:00Z", "kWh": 1.5, "error_type": "normal", "soc": 100,
     "PF": 1, "nacelle_direction_deg": 360.0000001},
    {"timestamp": "2026-02-09T12:00:00Z", "kWh": 1, "error_type": "normal",
     "tariff_currency": "ZAR\n", "seller_party_id": "nersa:gen:SOLARPK-001\n"},
    {"timestamp": "2026-02-09T12:00:00Z\ud800", "kWh": 1, "error_type": "normal\udc00",
     "asset_id": "SITE-\ud800", "tariff_currency": "ZA\ud800"},  # lone surrogates
    {},
]


@pytest.mark.parametrize("record", EDGE_RECORDS, ids=range(len(EDGE_RECORDS)))
def test_agrees_on_edge_records(record: dict[str, Any]) -> None:
    expected = jsonschema_verdict(record)
    if record.get("asset_id") == "SITE-\ud800":
        # the one deliberate difference: JSON Schema passes a string with a lone surrogate,
        # odse does not (no writer can write it); fields with a pattern or enum still fail
        # those first, as JSON Schema says
        expected = {**expected, "$.asset_id": "TYPE_MISMATCH"}
    assert odse_verdicts([record])[0] == expected


def test_mixed_python_types_in_one_column_agree() -> None:
    # every Python type in one column forces the value-by-value route
    kinds = [1, 1.5, True, None, "x", [1], {"a": 1}, 10**30, float("nan"), -2]
    batch = [{"timestamp": "2026-02-09T12:00:00Z", "kWh": v, "error_type": "normal"}
             for v in kinds]
    assert odse_verdicts(batch) == [jsonschema_verdict(r) for r in batch]


# ---- Arrow input judges as its dict form ------------------------------------------------------

ARROW_FIELDS = {
    "timestamp": pa.timestamp("us", tz="UTC"),
    "kWh": pa.float64(),
    "error_type": pa.string(),
    "direction": pa.string(),
    "PF": pa.float64(),
    "soc": pa.int64(),
    "seller_party_id": pa.string(),
    "curtailment_flag": pa.bool_(),
    "settlement_period_start": pa.string(),
    "wind_speed_ms": pa.string(),  # a column of the wrong type
}


def dict_form(table: pa.Table) -> list[dict[str, Any]]:
    """Return the dict form of Arrow records: nulls left out, timestamps as ISO text with Z."""
    def text(value: Any) -> Any:
        if isinstance(value, dt.datetime):
            return value.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z")
        return value

    return [{k: text(v) for k, v in row.items() if v is not None} for row in table.to_pylist()]


@st.composite
def arrow_tables(draw: Any) -> pa.Table:
    n = draw(st.integers(1, 40))
    names = draw(st.lists(st.sampled_from(list(ARROW_FIELDS)), min_size=1, unique=True))
    columns = {}
    for name in names:
        kind = ARROW_FIELDS[name]
        if pa.types.is_timestamp(kind):
            value = st.datetimes(min_value=dt.datetime(1970, 1, 1),
                                 max_value=dt.datetime(2100, 1, 1),
                                 timezones=st.just(dt.timezone.utc))
        elif pa.types.is_floating(kind):
            value = st.floats(-2, 400) | st.sampled_from([math.nan, math.inf, -math.inf])
        elif pa.types.is_integer(kind):
            value = st.integers(-5, 200)
        elif pa.types.is_boolean(kind):
            value = st.booleans()
        elif name in ("error_type", "direction"):
            value = st.sampled_from(["normal", "net", "generation", "fault", "x"])
        elif name == "wind_speed_ms":
            value = st.sampled_from(["3.5", "fast"])
        elif name == "seller_party_id":
            value = st.sampled_from(["nersa:gen:A-1", "bad id"])
        else:
            value = st.sampled_from([t for t in POOLS["timestamp"] if isinstance(t, str)])
        columns[name] = pa.array(draw(st.lists(st.none() | value, min_size=n, max_size=n)),
                                 kind)
    return pa.table(columns)


@settings(max_examples=150, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(arrow_tables())
def test_arrow_tables_agree_with_their_dict_form(table: pa.Table) -> None:
    as_dicts = dict_form(table)
    assert odse_verdicts(table) == odse_verdicts(as_dicts)
    assert odse_verdicts(as_dicts) == [jsonschema_verdict(r) for r in as_dicts]


# ---- every field, every input form --------------------------------------------------------------
# Tables typed as odse's Arrow form declares each field (odse.records.known_fields), filled from
# the same pools (only the values the column's type can hold), every field of the schema drawn;
# the verdict must be the same for the table, its record batches, a RecordBatchReader, the dict
# form, jsonschema on the dict form, and `odse validate` on the table written as Parquet and as
# JSON Lines.

FIELD_TYPES = known_fields()


def _fits(value: Any, kind: pa.DataType) -> bool:
    if pa.types.is_floating(kind):
        return (isinstance(value, float) or (isinstance(value, int)
                                             and not isinstance(value, bool)
                                             and abs(value) < 2**53))
    if pa.types.is_boolean(kind):
        return isinstance(value, bool)
    if pa.types.is_string(kind):
        if not isinstance(value, str):
            return False
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return False
        return True
    return False


TYPED_POOLS = {name: [v for v in POOLS[name] if _fits(v, FIELD_TYPES[name])]
               for name in PROPS}
TYPED_POOLS["timestamp"] = [v for v in POOLS["timestamp"] if _fits(v, pa.string())]
STAMPS = st.datetimes(min_value=dt.datetime(1970, 1, 1), max_value=dt.datetime(2100, 1, 1),
                      timezones=st.just(dt.timezone.utc))
FORMS_SEEN: list[int] = []


@st.composite
def typed_tables(draw: Any) -> pa.Table:
    n = draw(st.integers(1, 60))
    start, count = draw(st.integers(0, len(OPTIONAL) - 1)), draw(st.integers(1, 16))
    names = [*REQUIRED, *(OPTIONAL * 2)[start:start + count]]
    columns = {}
    for name in names:
        kind = FIELD_TYPES[name]
        if name == "timestamp" and draw(st.booleans()):
            value: Any = STAMPS
        else:
            kind = pa.string() if name == "timestamp" else kind
            value = st.sampled_from(TYPED_POOLS[name])
        nulls = st.none() if name not in REQUIRED or draw(st.integers(0, 9)) == 0 \
            else st.nothing()
        columns[name] = pa.array(draw(st.lists(nulls | value, min_size=n, max_size=n)), kind)
    if "direction" not in columns and draw(st.booleans()):
        columns["direction"] = pa.array(draw(st.lists(st.sampled_from(
            ["net", "generation", "consumption", "bogus", None]), min_size=n, max_size=n)))
    return pa.table(columns)


def forms(table: pa.Table) -> dict[str, Any]:
    half = table.num_rows // 2
    batches = table.to_batches(max_chunksize=max(1, half))
    return {"table": table, "record batch": table.combine_chunks().to_batches()[0],
            "list of batches": batches, "reader": pa.RecordBatchReader.from_batches(
                table.schema, batches), "dicts": dict_form(table)}


@settings(max_examples=120, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(typed_tables())
def check_every_form_agrees(table: pa.Table) -> None:
    as_dicts = dict_form(table)
    expected = [jsonschema_verdict(r) for r in as_dicts]
    FORMS_SEEN.append(table.num_rows)
    for form, data in forms(table).items():
        assert odse_verdicts(data) == expected, form


def test_every_field_in_every_form_agrees_with_jsonschema() -> None:
    FORMS_SEEN.clear()
    check_every_form_agrees()
    # the corpus is drawn afresh each run (120 tables of 1-50 rows): 1,500-3,000 records
    assert sum(FORMS_SEEN) >= 1_000, f"corpus had {sum(FORMS_SEEN)} records"


@pytest.mark.parametrize("name", OPTIONAL)
def test_each_field_with_its_whole_pool_agrees_in_every_form(name: str) -> None:
    pool = TYPED_POOLS[name]
    n = len(pool) + 1
    good = {"timestamp": pa.array(["2026-02-09T12:00:00Z"] * n),
            "kWh": pa.array([-1.0, *([1.5] * (n - 1))]),
            "error_type": pa.array(["normal"] * n), name: pa.array([None, *pool],
                                                                    FIELD_TYPES[name])}
    table = pa.table(good)
    as_dicts = dict_form(table)
    expected = [jsonschema_verdict(r) for r in as_dicts]
    for form, data in forms(table).items():
        assert odse_verdicts(data) == expected, form


def cli_verdicts(path: Path, n: int) -> list[dict[str, str]]:
    done = CliRunner().invoke(cli, ["validate", "-q", "--max-errors", "100000", str(path)])
    assert done.exit_code in (0, 1), done.output
    report = json.loads(done.stdout)
    assert report["total"] == n
    out: list[dict[str, str]] = [{} for _ in range(n)]
    for error in report["errors"]:
        out[error["record"]][error["path"]] = error["code"]
    return out


@settings(max_examples=12, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture])
@given(table=typed_tables())
def test_the_cli_agrees_on_parquet_and_json_lines(table: pa.Table, tmp_path: Path) -> None:
    as_dicts = dict_form(table)
    expected = [jsonschema_verdict(r) for r in as_dicts]
    parquet = tmp_path / "records.parquet"
    pq.write_table(table, parquet)
    assert cli_verdicts(parquet, table.num_rows) == expected
    lines = tmp_path / "records.jsonl"
    lines.write_text("".join(json.dumps(r, allow_nan=True) + "\n" for r in as_dicts),
                     encoding="utf-8")
    assert cli_verdicts(lines, table.num_rows) == expected
