"""`syncd explain EMAIL` as an operator runs it: a contact sent, one SendGrid rejected, one
that changed, one that left the segment, one that never existed; --live adds SendGrid's."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from syncd.cli import main
from syncd.emulator import Emulator, FaultRule
from syncd.ledger import RETRY_BUDGET
from syncd.shapes import json_schema
from tests.fixtures_emulator import TEST_API_KEY
from tests.reconciling.world import World, people, world

UPSERT = "PUT /v3/marketing/contacts"
VICTIM = "person.3@example.com"


@pytest.fixture
async def history(
    tmp_path: Path, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[World]:
    """Five people synced (SendGrid refusing person 3 until out of retries), then person 1
    leaves the segment (taken off the list) and person 2 changes first name."""
    monkeypatch.setenv("SENDGRID_API_KEY", TEST_API_KEY)
    async with world(tmp_path, emulator) as w:
        rows = people(0, 5)
        w.destination({"vip": w.csv("vip", rows)}, limits={"maxRemovalFraction": 0.5})
        emulator.faults.add(
            FaultRule(kind="job_errored", template=UPSERT, emails=[VICTIM], reason="invalid email")
        )
        for _ in range(RETRY_BUDGET):
            assert (await w.sync()).outcome == "success"
        left = [row for n, row in enumerate(rows) if n != 1]
        left[1]["FirstName"] = "Renamed"  # person 2
        w.csv("vip", left)
        report = await w.sync()
        assert report.counts()["removed"] == 1
        left[1]["FirstName"] = "Renamed again"
        w.csv("vip", left)  # changed after the last sync: the next one updates it
        yield w


def environment(w: World) -> dict[str, str]:
    return {
        "SENDGRID_API_KEY": TEST_API_KEY,
        "SYNCD_SENDGRID_BASE_URL": w.emulator.url,
        "SYNCD_DESTINATIONS": str(w.destinations),
        "SYNCD_STATE": w.settings.state,
        "SYNCD_LOG_FORMAT": "json",
    }


async def cli(w: World, *args: str) -> tuple[int, str, str]:
    """`syncd ARGS` run as a process on `w`'s files and ledger: (exit code, out, err)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "syncd", *args, env={**os.environ, **environment(w)},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def explain(w: World, *args: str) -> tuple[int, str, str]:
    return await cli(w, "explain", *args)


async def story(w: World, email: str, *options: str) -> dict[str, Any]:
    code, out, err = await explain(w, email, "--output", "json", *options)
    assert code == 0, out + err
    document = json.loads(out)
    (members,) = document["destinations"]
    assert members["destination"] == "members"
    told: dict[str, Any] = members
    return told


@pytest.mark.slow
async def test_each_contact_gets_its_own_story_and_live_adds_what_sendgrid_holds(
    history: World,
) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    w = history

    sent = await story(w, "Person.0@Example.com", "--live")  # written as in the source
    assert sent["state"] == "inSync"
    assert sent["rows"] == [{"segment": "vip", "row": 2, "used": True, "problem": None}]
    assert {"field": "first_name", "value": "First0"} in sent["values"]
    acknowledged = sent["acknowledged"]
    assert acknowledged["sameValues"] is True
    assert acknowledged["batch"]["kind"] == "upsert"
    assert acknowledged["batch"]["state"] == "partlyRejected"  # person 3 was refused in it
    assert acknowledged["batch"]["jobId"]
    assert (sent["live"]["found"], sent["live"]["onList"]) == (True, True)
    assert {"field": "first_name", "value": "First0"} in sent["live"]["values"]
    assert sent["live"]["changes"] == []

    rejected = await story(w, VICTIM, "--live")
    assert rejected["state"] == "rejected"
    assert rejected["acknowledged"] is None
    assert rejected["rejection"]["reason"] == "invalid email"
    assert (rejected["rejection"]["attempts"], rejected["rejection"]["retriesLeft"]) == (
        RETRY_BUDGET,
        0,
    )
    assert "not sent: invalid email" in rejected["summary"]
    assert rejected["live"]["found"] is False

    changed = await story(w, "person.2@example.com", "--live")
    assert changed["state"] == "toUpdate"
    assert changed["acknowledged"]["sameValues"] is False
    assert changed["live"]["changes"] == [
        {"field": "first_name", "from": "Renamed", "to": "Renamed again"}
    ]

    code, out, _ = await explain(w, "person.1@example.com", "--output", "json", "--live")
    assert code == 0
    document = json.loads(out)
    jsonschema.Draft202012Validator(json_schema("explain")).validate(document)
    assert document["email"] == "p***@example.com"
    (left,) = document["destinations"]
    assert left["state"] == "removed"
    assert left["rows"] == []
    assert left["departure"]["how"] == "removed"
    assert "taken off the list on" in left["summary"]
    assert left["live"]["onList"] is False

    code, out, _ = await explain(w, "nobody@example.com")
    assert code == 1
    assert out.strip() == "n***@example.com: in no segment, and syncd has no record of it"


async def test_the_text_tells_the_story_first_and_the_address_whole_only_when_asked(
    history: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    w = history
    code, out, _ = await explain(w, "person.2@example.com", "--live")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "p***@example.com"
    assert lines[2].startswith("members (")
    assert lines[2].endswith(": toUpdate")
    assert "its values differ from those SendGrid acknowledged on" in lines[3]
    assert "    first_name: Renamed → Renamed again (what syncd sends)" in lines
    assert any(line.startswith("  SendGrid now  on the list") for line in lines)

    for name, value in environment(w).items():  # the same command, in this process
        monkeypatch.setenv(name, value)
    code = await asyncio.to_thread(main, ["explain", "person.2@example.com", "--show-emails"])
    assert (code, capsys.readouterr().out.splitlines()[0]) == (0, "person.2@example.com")
    code = await asyncio.to_thread(
        main, ["explain", "person.2@example.com", "--destination", "nope"]
    )
    assert code == 1
    assert "no destination named 'nope'" in capsys.readouterr().err
    code = await asyncio.to_thread(main, ["explain", "not-an-email"])
    assert code == 2  # the command line is wrong, not an address nobody holds
    assert capsys.readouterr().err == (
        "syncd explain: the address given: email is not a valid address: no @\n"
    )


@pytest.mark.slow
async def test_an_erased_address_is_told_as_erased_not_as_to_be_added(history: World) -> None:
    w = history
    w.ledger.close()  # as when no daemon runs: `syncd forget` writes the ledger itself
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "syncd", "forget", "person.4@example.com",
        env={**os.environ, **environment(w)},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await process.communicate()
    assert process.returncode == 0, (out + err).decode()

    erased = await story(w, "person.4@example.com")  # still in the segment's file

    assert erased["state"] == "erased"
    assert "erased by syncd forget: no run sends it" in erased["summary"]
    others = await story(w, "person.0@example.com")
    assert others["state"] == "inSync"  # nobody else is touched


async def test_an_unknown_destination_is_named_as_status_and_history_name_it(
    history: World,
) -> None:
    code, out, _ = await explain(
        history, "person.0@example.com", "--destination", "nosuch", "--output", "json"
    )
    assert code == 1
    error = json.loads(out)["error"]
    assert error["code"] == "unknownDestination"
    assert "no destination named 'nosuch'" in error["message"]


async def test_a_destination_whose_file_is_invalid_is_not_told_as_left(history: World) -> None:
    # The daemon runs the last good version; explain said "in no segment now, its removal
    # is pending" for a contact the segment holds.
    w = history
    file = w.destinations / "members.yaml"
    file.write_text(file.read_text().replace("onLeave", "onLeaves", 1) + "oops: 1\n")

    told = await story(w, "person.0@example.com")

    assert told["state"] == "segmentsNotRead", told
    assert told["file"] is None
    assert "its segments were not read" in told["summary"]
    assert "SendGrid acknowledged it on" in told["summary"]


async def test_values_from_sendgrid_and_from_the_source_never_reach_the_terminal_raw(
    history: World,
) -> None:
    """A name a marketer typed into SendGrid, or a source row, may hold terminal escape
    sequences (here: set the window title, clear the screen, a right-to-left override):
    the text shows them as escapes, never as control characters."""
    w = history
    hostile = "\x1b]0;owned\x07\x1b[2JEve\u202e"
    edit = {
        "op": "set_fields",
        "emails": ["person.0@example.com"],
        "fields": {"first_name": hostile},
    }
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{w.emulator.url}/_emulator/hand-edits", json=[edit]) as reply,
    ):
        assert reply.status == 200, await reply.text()
    rows = [*people(0, 1), *people(9, 1)]
    rows[1]["FirstName"] = hostile
    w.csv("vip", [*rows, *people(2, 3)])

    code, out, err = await explain(w, "person.0@example.com", "--live")
    assert code == 0, out + err
    assert not any(ch in out + err for ch in "\x1b\x07\u202e"), repr(out)
    assert (
        "SendGrid now  on the list · first_name=\\u001b]0;owned\\u0007\\u001b[2JEve\\u202e" in out
    )
    code, out, err = await explain(w, "person.9@example.com", "--live")  # refused: not sent
    assert code == 0, out + err
    assert not any(ch in out + err for ch in "\x1b\x07\u202e"), repr(out)
    assert "first_name contains a control character U+001B" in out


async def hand_edit(w: World, email: str, first_name: str) -> None:
    edit = {"op": "set_fields", "emails": [email], "fields": {"first_name": first_name}}
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{w.emulator.url}/_emulator/hand-edits", json=[edit]) as reply,
    ):
        assert reply.status == 200, await reply.text()


async def test_a_hand_edit_in_sendgrid_is_told_as_drift_an_audit_heals(history: World) -> None:
    # In sync with what SendGrid acknowledged, yet edited there since: --live said "what
    # syncd sends", though a sync sends nothing until the segment's values change.
    w = history
    await hand_edit(w, "person.0@example.com", "Handy")

    code, out, err = await explain(w, "person.0@example.com", "--live")

    assert code == 0, out + err
    assert ": inSync" in out
    assert "    first_name: Handy → First0 (what SendGrid acknowledged)" in out
    assert "a sync sends nothing while the segment's values are unchanged" in out
    assert "`syncd audit members --heal` sends them again" in out


async def test_a_leaver_held_back_by_the_removal_guard_is_told_so(history: World) -> None:
    # "its removal is pending" alone, while only --allow-removals would let it go.
    w = history
    w.csv("vip", people(0, 1))  # three of the four acknowledged leave: over the 50 %
    assert (await w.sync()).outcome == "guard"

    code, out, err = await explain(w, "person.4@example.com")

    assert code == 0, out + err
    assert "its removal is pending; the removal guard held it back at the last run (" in out
    assert "`syncd sync members --allow-removals` lets it go" in out


async def test_a_leaver_syncd_cannot_search_is_told_as_not_removed(history: World) -> None:
    # SendGrid's search takes addresses of 100 characters at most: the leaver stays on the
    # list, reported once; explain then said "taken off the list".
    w = history
    long = "a" * 60 + "@" + "b" * 50 + ".example.com"
    rows = [*people(0, 5), {**people(5, 1)[0], "EmailAddress": long}]
    w.csv("vip", rows)
    assert (await w.sync()).outcome == "success"
    w.csv("vip", rows[:5])
    left = await w.sync()
    assert left.outcome == "success", left.error
    assert long in w.members()  # still on the list

    told = await story(w, long)

    assert told["state"] == "notRemoved"
    assert told["departure"]["how"] == "notRemoved"
    assert "syncd gave up taking it off the list on" in told["summary"]
    assert "at most 100 characters" in told["summary"]
    assert "take it off in SendGrid if it is" in told["summary"]


async def test_a_refusal_before_a_contact_was_taken_off_is_not_told_beside_it(
    history: World,
) -> None:
    # Refused (its new name), then out of the segment and taken off: the story showed the
    # old refusal next to "taken off the list", as if it still stood.
    w = history
    rows = [row for n, row in enumerate(people(0, 5)) if n != 1]
    rows[0]["FirstName"] = "Bad\x07Name"  # person 0: refused by syncd, still on the list
    w.csv("vip", rows)
    assert (await w.sync()).rejected >= 1
    w.csv("vip", rows[1:])  # person 0 leaves
    assert (await w.sync()).outcome == "success"
    await w.sync()  # search confirms the removal

    told = await story(w, "person.0@example.com")

    assert told["state"] == "removed", told
    assert told["rejection"] is None


async def test_an_address_refused_as_invalid_is_to_be_fixed_at_the_source(
    tmp_path: Path, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The advice was "it is sent again when its values change": no change of its other
    # values gets an invalid address sent.
    monkeypatch.setenv("SENDGRID_API_KEY", TEST_API_KEY)
    async with world(tmp_path, emulator) as w:
        rows = people(0, 2)
        rows[1]["EmailAddress"] = "someone@example"
        w.destination({"vip": w.csv("vip", rows)})
        assert (await w.sync()).rejected == 1
        told = await story(w, "someone@example")
        renamed = await story(w, "person.0@example.com")

    assert told["state"] == "rejected", told
    assert told["summary"].startswith("in segment vip (row 3), but not sent: email is not a")
    assert told["summary"].endswith(
        "; no change of its other values gets it sent: correct the address in the source"
    ), told["summary"]
    assert renamed["state"] == "inSync"
