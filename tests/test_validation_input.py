"""What validate(), validate_file() and validate_batch() accept, and how they refuse the rest."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from odse import validate, validate_batch, validate_file
from odse.errors import InputError, InputNotFoundError, ParameterError

RECORD = {"timestamp": "2026-02-09T14:00:00Z", "kWh": 5.0, "error_type": "normal"}
BAD = {"timestamp": "2026-02-09T14:00:00Z", "kWh": -5.0, "error_type": "normal"}


def test_a_dict() -> None:
    assert validate(RECORD).is_valid


def test_json_text() -> None:
    assert validate(json.dumps(RECORD)).is_valid
    assert not validate(json.dumps(BAD)).is_valid


def test_json_text_with_leading_blanks_and_newlines() -> None:
    assert validate("\n  " + json.dumps(RECORD, indent=2)).is_valid


def test_long_json_text_is_not_probed_as_a_path() -> None:
    # the original tried Path(text).exists() first and crashed on names over 255 bytes
    record = {**RECORD, "contract_reference": "x" * 400}
    assert validate(json.dumps(record)).is_valid


def test_a_path_as_str_and_as_path(tmp_path: Path) -> None:
    path = tmp_path / "record.json"
    path.write_text(json.dumps(BAD))
    for given in (str(path), path):
        result = validate(given)
        assert [e.code for e in result.errors] == ["OUT_OF_BOUNDS"]


def test_bytes_are_json_text() -> None:
    assert validate(json.dumps(RECORD).encode()).is_valid


def test_validate_file(tmp_path: Path) -> None:
    path = tmp_path / "record.json"
    path.write_text(json.dumps({**RECORD, "kWh": 500.0}))
    result = validate_file(path, level="semantic", capacity_kw=10.0)
    assert result.is_valid
    assert result.level == "semantic"
    assert [w.code for w in result.warnings] == ["EXCEEDS_PHYSICAL_MAXIMUM"]


def test_a_json_file_with_a_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "record.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(RECORD).encode())
    assert validate_file(path).is_valid


@pytest.mark.parametrize("given", [[RECORD, RECORD], (RECORD,), json.dumps([RECORD, RECORD])])
def test_a_list_is_refused_with_a_pointer_to_validate_batch(given: Any) -> None:
    with pytest.raises(ParameterError) as info:
        validate(given)
    text = str(info.value)
    assert "validate() checks one record, but was given a list of" in text
    assert "Use validate_batch(records) for several records" in text


def test_a_file_holding_an_array_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "records.json"
    path.write_text(json.dumps([RECORD]))
    with pytest.raises(ParameterError, match="was given a list of 1"):
        validate_file(path)


def test_json_lines_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "records.jsonl"
    path.write_text(json.dumps(RECORD) + "\n" + json.dumps(RECORD) + "\n")
    with pytest.raises(ParameterError) as info:
        validate_file(path)
    assert str(info.value) == (
        f"validate() checks one record, but the JSON holds more than one value (JSON Lines?) "
        f"(file {path}, line 2). Use validate_batch() with the records as a list")


def test_invalid_json_text() -> None:
    with pytest.raises(InputError) as info:
        validate('{"timestamp": ')
    assert info.value.code == "INVALID_JSON"
    assert str(info.value).startswith("invalid JSON: Expecting value (line 1, column 15)")


def test_a_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.json"
    with pytest.raises(InputNotFoundError) as info:
        validate(str(missing))
    assert str(info.value) == (f"file not found: {missing}. Check the path, "
                               "or pass the record as a dict or JSON text")
    assert isinstance(info.value, FileNotFoundError)


def test_a_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read"):
        validate(tmp_path)


def test_a_very_long_non_json_string_is_a_clean_error() -> None:
    with pytest.raises(InputError):
        validate("x" * 5000)


def test_validate_file_needs_a_path() -> None:
    with pytest.raises(ParameterError, match="validate_file\\(\\) needs a path, got dict"):
        validate_file(RECORD)  # type: ignore[arg-type]


@pytest.mark.parametrize("scalar", ["42", "null", "true"])
def test_json_that_is_not_an_object_is_a_type_mismatch(tmp_path: Path, scalar: str) -> None:
    path = tmp_path / "x.json"
    path.write_text(scalar)
    [error] = validate_file(path).errors
    assert (error.path, error.code) == ("$", "TYPE_MISMATCH")
    assert error.message.startswith("a record must be an object (a dict), got ")


# ---- parameters ----------------------------------------------------------------------------

@pytest.mark.parametrize(("kwargs", "message"), [
    ({"level": "semntic"}, "unknown validation level 'semntic'; did you mean 'semantic'? "
                           "known levels: schema, semantic"),
    ({"level": "profile"}, "unknown validation level 'profile'; known levels: schema, "
                           "semantic"),
    ({"capacity_kw": -10}, "capacity_kw must be greater than 0, got -10"),
    ({"capacity_kw": 0}, "capacity_kw must be greater than 0, got 0"),
    ({"capacity_kw": True}, "capacity_kw must be a finite number, got True"),
    ({"capacity_kw": float("nan")}, "capacity_kw must be a finite number, got nan"),
    ({"capacity_kw": "10"}, "capacity_kw must be a finite number, got '10'"),
    ({"interval_minutes": 0}, "interval_minutes must be greater than 0, got 0"),
    ({"latitude": 10.0}, "latitude and longitude go together; got only one. Pass both, or "
                         "neither"),
    ({"latitude": 91, "longitude": 0}, "latitude must be between -90 and 90, got 91"),
    ({"latitude": 0, "longitude": -181}, "longitude must be between -180 and 180, got -181"),
])
def test_bad_parameters_are_refused(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ParameterError) as info:
        validate(RECORD, **kwargs)
    assert str(info.value) == message
    with pytest.raises(ParameterError):
        validate_batch([RECORD], **kwargs)


def test_semantic_context_is_ignored_at_schema_level() -> None:
    result = validate({**RECORD, "kWh": 500.0}, capacity_kw=10.0)
    assert result.warnings == []
    assert result.level == "schema"


def test_positional_arguments_follow_the_documented_signature() -> None:
    result = validate({**RECORD, "kWh": 500.0}, "semantic", 10.0, None, None, None)
    assert [w.code for w in result.warnings] == ["EXCEEDS_PHYSICAL_MAXIMUM"]


# ---- validate_batch's inputs ------------------------------------------------------------------

@pytest.mark.parametrize("given", [RECORD, "records.json", b"[]", Path("records.json")])
def test_validate_batch_refuses_a_single_record_or_a_path(given: Any) -> None:
    with pytest.raises(ParameterError, match="validate_batch\\(\\) needs a list of records"):
        validate_batch(given)


def test_validate_batch_refuses_a_non_iterable() -> None:
    with pytest.raises(ParameterError, match="got int"):
        validate_batch(5)


def test_validate_batch_takes_any_iterable_of_dicts() -> None:
    assert validate_batch((RECORD, BAD)).summary == \
        "1/2 valid (schema), 1 error: 1x OUT_OF_BOUNDS"
    assert validate_batch(r for r in [RECORD, BAD]).invalid == 1


def test_json_text_with_a_key_given_twice_is_refused() -> None:
    # the last of two values would be checked and the first lost in silence
    text = '{"timestamp": "2026-02-09T10:00:00Z", "kWh": -1, "kWh": 1.5, "error_type": "normal"}'
    with pytest.raises(InputError) as caught:
        validate(text)
    assert caught.value.code == "JSON_DUPLICATE_KEY"
    assert "gives the key 'kWh' twice in one object" in str(caught.value)
