"""Regulatory events: each regulator's records into the one envelope, as a data table."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

import odse
from odse.regulatory import FIELDS, regulatory_sources

SCHEMA = json.loads((Path(__file__).resolve().parent.parent / "schemas" /
                     "regulatory-event.json").read_text(encoding="utf-8"))


def check(events: list[dict]) -> None:
    validator = jsonschema.Draft202012Validator(
        SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    for event in events:
        assert list(event) == list(FIELDS)
        validator.validate(event)


def test_nersa_notice() -> None:
    events = odse.normalize_regulatory_events([{
        "href": "/file/8375/", "title": "  Update on the MRP calculation ",
        "published_date": "17 February 2026", "section": "recent_decisions"}], source="NERSA")
    check(events)
    assert events == [{
        "jurisdiction": "ZA", "regulator": "NERSA", "event_type": "announcement",
        "title": "Update on the MRP calculation", "summary": "recent_decisions",
        "effective_date": None, "deadline_date": None, "published_date": "2026-02-17",
        "source_url": "https://www.nersa.org.za/file/8375/", "source_system": "nersa",
        "source_record_id": "8375", "schema_version": "regulatory-event.v1",
        "transform_version": "nersa.v1"}]
    assert events.rejects == []


def test_ippo_press_release_with_and_without_a_note() -> None:
    events = odse.normalize_regulatory_events([
        {"id": "94e3", "headline": "Announcement of preferred bidders, bid window 7",
         "date": "12/16/2025 10:00:00 PM", "noteid": "613d"},
        {"headline": "Request for Information (RFQ) on storage", "date": "01/05/2026"},
    ], source="ippo")
    check(events)
    assert [e["event_type"] for e in events] == ["procurement_update", "procurement_update"]
    assert events[0]["source_url"] == "https://www.ipp-projects.co.za/_entity/annotation/613d"
    assert events[1]["source_url"] == "https://www.ipp-projects.co.za/latestnews/"
    assert [e["published_date"] for e in events] == ["2025-12-16", "2026-01-05"]
    assert events[1]["source_record_id"] == "request-for-information-rfq-on-storage"
    assert events[0]["summary"] == "IPP Office press release"


def test_us_manual_keeps_its_own_type_unless_the_title_says_otherwise() -> None:
    events = odse.normalize_regulatory_events([
        {"title": "Notice of Proposed Rulemaking on interconnection", "regulator": "FERC",
         "event_type": "rulemaking", "published_date": "2026-03-01",
         "effective_date": "2026-06-01", "deadline_date": "05/01/2026",
         "source_url": "https://example.com/rm-1", "source_record_id": "RM-1"},
        {"title": "Technical conference and public hearing", "published_date": "2026-03-02",
         "source_url": "https://example.com/ad-2"},
    ], source="us")
    check(events)
    assert events[0]["event_type"] == "rulemaking" and events[0]["regulator"] == "FERC"
    assert events[0]["deadline_date"] == "2026-05-01"
    assert events[1]["event_type"] == "consultation"
    assert events[1]["regulator"] == "US Regulator"
    assert events[1]["source_system"] == "us_manual"


def test_zera_defaults() -> None:
    events = odse.normalize_regulatory_events(
        [{"title": "Public Notice - Fuel Notice 4 October 2025", "published_date": "2025-10-06"},
         {"title": "Licensing of new operators", "published_date": "6 Oct 2025"}],
        source="zera")
    check(events)
    assert [e["event_type"] for e in events] == ["public_notice", "public_notice"]
    assert events[0]["source_url"] == "https://www.zera.co.zw/press-releases-public-notices/"
    assert events[1]["published_date"] == "2025-10-06"


def test_records_without_a_title_or_a_readable_date_are_rejected_not_dropped() -> None:
    events = odse.normalize_regulatory_events([
        {"title": "", "published_date": "2026-01-01"},
        {"title": "Tariff decision", "published_date": "sometime in 2026"},
        {"title": "Tariff decision", "published_date": "2026-01-02"},
    ], source="nersa")
    assert len(events) == 1 and events[0]["event_type"] == "decision"
    assert events.rejects[0] == {"index": 0, "field": "title", "value": None,
                                 "reason": "no title"}
    assert events.rejects[1]["index"] == 1 and events.rejects[1]["field"] == "published_date"
    assert events.rejects[1]["value"] == "sometime in 2026"
    assert "%d %B %Y" in events.rejects[1]["reason"]


def test_a_record_without_a_required_field_is_rejected() -> None:
    events = odse.normalize_regulatory_events(
        [{"title": "Rulemaking on storage", "published_date": "2026-01-01"},
         {"title": "Rulemaking on storage", "source_url": "https://example.com/rm-9"}],
        source="us_manual")
    assert events == []
    assert [(r["index"], r["field"]) for r in events.rejects] == [
        (0, "source_url"), (1, "published_date")]
    assert events.rejects[0]["reason"] == "no source_url (the envelope requires it)"


def test_a_title_without_words_gets_a_stable_id() -> None:
    one = odse.normalize_regulatory_events([{"title": "!!!", "published_date": "2026-01-01"}],
                                           source="zera_seed")
    two = odse.normalize_regulatory_events([{"title": "!!!", "published_date": "2026-01-01"}],
                                           source="zera_seed")
    assert len(one[0]["source_record_id"]) == 32
    assert one[0]["source_record_id"] == two[0]["source_record_id"]


def test_unknown_source_names_the_nearest_and_all() -> None:
    with pytest.raises(odse.UnknownSourceError) as err:
        odse.normalize_regulatory_events([], source="nersaa")
    message = str(err.value)
    assert "unknown regulatory source 'nersaa'" in message
    assert "Did you mean 'nersa'?" in message and "zera_seed" in message
    assert isinstance(err.value, ValueError)


def test_sources_and_aliases() -> None:
    assert regulatory_sources() == {"nersa": [], "ippo": [], "us_manual": ["us"],
                                    "zera_seed": ["zera"]}
    assert odse.REGULATORY_EVENT_SCHEMA_VERSION == "regulatory-event.v1"
