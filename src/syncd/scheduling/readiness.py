"""What the `Ready` condition says: a success names what it left undone, and a run that
never ended takes back the Ready of the run before it."""

from __future__ import annotations

from collections.abc import Mapping


def ready_message(name: str, counts: Mapping[str, int]) -> str:
    """A success may leave refused rows and contacts out, and leavers on the list until
    SendGrid's search finds them: said, not hidden behind "equals"."""
    refused, waiting = counts.get("rejected", 0), counts.get("pending_removals", 0)
    but = []
    if refused:
        what = "rows or contacts" if refused > 1 else "row or contact"
        but.append(
            f"{refused:,} {what} not carried out (syncd status {name} --rejections says why)"
        )
    if waiting:
        but.append(f"{_leavers(waiting)} still to be taken off")
    if held := counts.get("held", 0):
        what = "contacts" if held > 1 else "contact"
        but.append(
            f"{held:,} {what} held until SendGrid settles an earlier batch or removal "
            "(the next runs send them)"
        )
    if given_up := counts.get("not_removed", 0):
        but.append(
            f"{_leavers(given_up)} syncd could not take off the list (syncd explain EMAIL says why)"
        )
    return "the list equals the segments" + (" but for " + " and ".join(but) if but else "")


def not_ended(run_id: int | None) -> str:
    """What this run began (a batch recorded, leavers to take off) may be left undone."""
    return (
        f"run #{run_id} has not ended: under way in another process, or stopped before it "
        "ended (its open work is carried on by the next run)"
    )


def _leavers(count: int) -> str:
    return f"{count:,} leaver" + ("s" if count != 1 else "")
