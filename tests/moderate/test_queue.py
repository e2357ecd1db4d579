"""The queue: filters, counts, pagination, SQL metacharacters, exports and the overview."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from faqbot.moderate_triage import Triage
from faqbot.moderate_views import PAGE_SIZE
from faqbot.store_models import Escalation
from tests.moderate.conftest import MOD, escalate

ROW_IDS = re.compile(r'<a href="/moderate/escalations/(\d+)">')


def ids(page: str) -> list[int]:
    """Escalation ids listed in a queue page, in order."""
    return [int(i) for i in ROW_IDS.findall(page)]


def backdate(store, escalation: int, when: dt.datetime) -> None:
    with store.engine.begin() as connection:
        connection.execute(
            update(Escalation).where(Escalation.id == escalation).values(created_at=when)
        )


@pytest.fixture
def mixed(store) -> dict[str, int]:
    """Five escalations of different categories, statuses and days."""
    made = {
        "dosing": escalate(store, "how many grams of kratom"),
        "emergency": escalate(
            store, "he took too much and is not breathing", category="emergency", kind="emergency"
        ),
        "mixing": escalate(store, "can I mix kratom with 100% alcohol", category="mixing"),
        "self_harm": escalate(store, "i want to end it", category="self_harm", kind="emergency"),
        "feedback": escalate(
            store, "that answer was useless_really", category="feedback", kind="feedback"
        ),
    }
    backdate(store, made["dosing"], dt.datetime(2026, 1, 5, 12, tzinfo=dt.UTC))
    store.set_status(made["mixing"], "resolved")
    return made


def test_queue_lists_newest_first_with_counts_per_status(moderator: TestClient, mixed):
    page = moderator.get("/moderate").text
    listed = ids(page)
    assert listed[-1] == mixed["dosing"]  # backdated: the oldest
    assert listed[:-1] == sorted(listed[:-1], reverse=True)
    found = re.findall(r'<span class="count">(\d+)</span> ([a-z ]+)</a>', page)
    assert {label: int(n) for n, label in found} == {
        "new": 4,
        "in review": 0,
        "resolved": 1,
        "false alarm": 0,
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("category=emergency", ["emergency"]),
        ("category=self_harm", ["self_harm"]),
        ("category=feedback", ["feedback"]),
        ("status=resolved", ["mixing"]),
        ("status=new&category=mixing", []),
        ("since=2026-01-05&until=2026-01-05", ["dosing"]),
        ("until=2026-01-04", []),
        ("q=BREATHING", ["emergency"]),
    ],
)
def test_filters(moderator: TestClient, mixed, query, expected):
    response = moderator.get(f"/moderate?{query}")
    assert response.status_code == 200
    assert sorted(ids(response.text)) == sorted(mixed[name] for name in expected)


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("%", ["mixing"]),  # a LIKE wildcard, matched literally
        ("_", ["feedback"]),
        ("100%", ["mixing"]),
        ("' OR '1'='1", []),
        ("'; DROP TABLE escalations; --", []),
        ('" OR ""="', []),
        ("\\", []),
        ("])}*+?.^$|", []),
    ],
)
def test_sql_metacharacters_in_search_are_plain_text(
    moderator: TestClient, store, mixed, search, expected
):
    response = moderator.get("/moderate", params={"q": search})
    assert response.status_code == 200
    assert sorted(ids(response.text)) == sorted(mixed[name] for name in expected)
    assert store.count_escalations() == 5  # the table is intact


def test_metacharacters_in_other_filters_are_refused_not_run(moderator: TestClient, store, mixed):
    response = moderator.get(
        "/moderate",
        params={"category": "x' OR 1=1 --", "status": "new' --", "since": "2026-01-01'"},
    )
    assert response.status_code == 400
    assert "unknown category" in response.text and "unknown status" in response.text
    assert "must be a date" in response.text
    assert sorted(ids(response.text)) == sorted(mixed.values())  # bad filters were ignored
    assert store.count_escalations() == 5


def test_pagination(moderator: TestClient, store):
    made = [escalate(store, f"question number {n}") for n in range(PAGE_SIZE + 3)]
    first = moderator.get("/moderate").text
    assert ids(first) == sorted(made, reverse=True)[:PAGE_SIZE]
    assert "Page 1 of 2" in first and 'rel="next" href="/moderate?page=2"' in first
    second = moderator.get("/moderate?page=2").text
    assert ids(second) == sorted(made, reverse=True)[PAGE_SIZE:]
    assert moderator.get("/moderate?page=99").status_code == 200
    filtered = moderator.get("/moderate?q=number&category=dosing").text
    assert 'href="/moderate?category=dosing&amp;q=number&amp;page=2"' in filtered


def test_export_csv_is_the_filtered_queue_as_a_download(moderator: TestClient, store, mixed):
    response = moderator.get("/moderate/export.csv?category=emergency")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;") and re.search(
        r'filename="escalations-\d{8}T\d{6}Z\.csv"', disposition
    )
    assert response.text == store.export(
        "csv", category="emergency"
    )  # = `faqbot escalations export`
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [int(r["id"]) for r in rows] == [mixed["emergency"]]


def test_export_jsonl_matches_the_cli_export(moderator: TestClient, store, mixed):
    response = moderator.get("/moderate/export.jsonl?status=new&q=kratom")
    assert response.status_code == 200
    assert response.headers["content-disposition"].endswith('.jsonl"')
    assert response.text == store.export("jsonl", status="new", search="kratom")
    records = [json.loads(line) for line in response.text.splitlines()]
    assert [r["id"] for r in records] == [mixed["dosing"]]
    assert moderator.get("/moderate/export.xml").status_code == 404
    assert Triage(engine=store.engine).recent()[0].action == "export.jsonl"  # exports are audited


def test_false_alarms_export_in_the_guard_dev_set_format(moderator: TestClient, store):
    first = escalate(
        store, "my dog ate some kratom how much is too much", history=("what is kratom",)
    )
    escalate(store, "how much should I take")
    store.set_status(first, "false_alarm")
    response = moderator.get("/moderate/false-alarms.jsonl")
    assert response.status_code == 200 and "attachment" in response.headers["content-disposition"]
    (case,) = [json.loads(line) for line in response.text.splitlines()]
    assert case == {
        "id": f"fa-{first}",
        "history": ["what is kratom"],
        "message": "my dog ate some kratom how much is too much",
        "expected": "none",
        "class": "false_alarm",
    }


def test_overview_draws_the_last_30_days_and_the_median_resolution_time(
    moderator: TestClient, store, clock
):
    made = [
        escalate(store, f"q{n}", category=c)
        for n, c in enumerate(["dosing", "dosing", "emergency"])
    ]
    # created exactly at the console clock's "now" (the store stamps the real time, which may
    # already be a second later: the median would then read "2 h 59 min")
    backdate(store, made[0], clock.now)
    backdate(store, made[1], clock.now)
    backdate(store, made[2], clock.now - dt.timedelta(days=40))  # outside the 30 days
    triage = Triage(engine=store.engine, clock=lambda: clock.now + dt.timedelta(hours=2))
    triage.act(made[0], moderator=MOD, action="resolve", note=None)
    triage = Triage(engine=store.engine, clock=lambda: clock.now + dt.timedelta(hours=4))
    triage.act(made[1], moderator=MOD, action="false_alarm", note="not a dose question")
    page = moderator.get("/moderate/overview")
    assert page.status_code == 200
    svg = page.text.split("<svg", 1)[1].split("</svg>", 1)[0]
    assert 'role="img"' in svg and "<title" in svg and "<script" not in svg and "style=" not in svg
    assert svg.count("<rect") == 1 and f"{clock.now.date().isoformat()}: 2 dosing" in svg
    assert "Median time to resolution</dt><dd>3 h 0 min" in page.text
    assert '<th scope="col">dosing</th>' in page.text  # the numbers, as a table


def test_overview_with_no_data(moderator: TestClient):
    page = moderator.get("/moderate/overview").text
    assert "No escalations in this period." in page and "no data yet" in page
