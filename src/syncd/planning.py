"""Pure decisions: from the diff's counts and the destination's limits to a plan.

No I/O, no clock, no logging: the same inputs always give the same plan, which is
what `syncd plan` prints and what a run then carries out. A guard that stops a run (or
holds back its removals) is a `GuardStop`: which guard, what it saw, and how to pass it,
so a plan can name it as `syncd.shapes.Guard` and a run can fail with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from syncd.errors import GuardTripped
from syncd.shapes import GuardName

RemovalAction = Literal["remove", "delete", "forget"]
ON_LEAVE_ACTION: dict[str, RemovalAction] = {
    "removeFromList": "remove",
    "deleteContact": "delete",
    "keep": "forget",
}


@dataclass(frozen=True)
class DiffCounts:
    """Desired (this run's segment) against acked (what SendGrid confirmed).

    The desired contacts split exactly: desired = new + changed + unchanged + held +
    exhausted. New and changed ones are sent; the others are not.
    """

    desired: int
    acked: int
    new: int
    """Not acknowledged before: to add."""
    changed: int
    """Acknowledged with another payload: to update."""
    unchanged: int
    gone: int
    """Acknowledged, no longer desired: to remove (or forget)."""
    held: int
    """Differing, but waiting on an open batch from an earlier run."""
    exhausted: int
    """Differing, but refused with this very payload: reported, not sent again."""
    moved_away: int = 0
    """Acknowledged on the destination's former list (`listId` changed), no longer
    desired: forgotten, neither removed from that list nor from this one."""
    removing_already: int = 0
    """Of `gone`, the leavers an earlier run began to remove (looked up or sent, waiting on
    SendGrid's search): that run's guard passed them, or a person confirmed them with
    --allow-removals; the guard does not weigh them again."""

    @property
    def leaving_now(self) -> int:
        """The leavers no run has begun to remove: what the removal guard weighs."""
        return self.gone - self.removing_already

    @property
    def to_send(self) -> int:
        return self.new + self.changed


def unchanged(profiles: int) -> DiffCounts:
    """The diff of a segment found equal to what SendGrid acknowledged."""
    return DiffCounts(
        desired=profiles,
        acked=profiles,
        new=0,
        changed=0,
        unchanged=profiles,
        gone=0,
        held=0,
        exhausted=0,
    )


@dataclass(frozen=True)
class GuardStop:
    """A guard that stops a run, or holds back its removals."""

    guard: GuardName
    message: str
    """What it saw and what it held back."""
    how_to_pass: str

    @property
    def text(self) -> str:
        return f"{self.message}; {self.how_to_pass}"


class GuardStopped(GuardTripped):
    """A run stopped by a guard, with the guard's name and how to pass it."""

    def __init__(self, stop: GuardStop) -> None:
        super().__init__(stop.text)
        self.stop = stop


@dataclass(frozen=True)
class Plan:
    diff: DiffCounts
    removal_action: RemovalAction
    removal_guard: GuardStop | None
    """The guard holding back removals this run, or None."""

    @property
    def removals_blocked(self) -> str | None:
        """Why removals are held back this run, or None."""
        return self.removal_guard.text if self.removal_guard else None

    @property
    def upserts(self) -> int:
        return self.diff.to_send

    @property
    def removals(self) -> int:
        return 0 if self.removals_blocked or self.removal_action == "forget" else self.diff.gone

    @property
    def changes(self) -> bool:
        return self.upserts > 0 or self.removals > 0


def require_consent(acknowledged: bool) -> None:
    if not acknowledged:
        raise GuardStopped(
            GuardStop(
                "consent",
                "spec.consent.dataPrivacyAcknowledged is not true, so nothing is exported",
                "set it to true once the data owner has agreed to export these profiles to "
                "SendGrid",
            )
        )


def profile_limit_exceeded(profiles: int, max_profiles: int) -> GuardStopped | None:
    if profiles <= max_profiles:
        return None
    return GuardStopped(
        GuardStop(
            "maxProfiles",
            f"the segments hold more than {max_profiles:,} profiles (spec.limits.maxProfiles), "
            "so nothing was sent",
            f"raise the limit if {profiles:,}+ is expected, or narrow the segments",
        )
    )


def decide(
    diff: DiffCounts,
    *,
    on_leave: str,
    max_removal_fraction: float,
    allow_removals: bool,
    destination: str,
    emptied: Mapping[str, int] | None = None,
) -> Plan:
    """`emptied`: segments read empty that held rows (how many) when last read whole."""
    action = ON_LEAVE_ACTION[on_leave]
    return Plan(
        diff=diff,
        removal_action=action,
        removal_guard=None
        if allow_removals or action == "forget"
        else _removal_guard(diff, max_removal_fraction, destination, emptied or {}),
    )


def emptied_segments(now: Mapping[str, int] | None, before: Mapping[str, int]) -> dict[str, int]:
    """The segments read empty now that held rows when last read whole, with how many."""
    if now is None:
        return {}
    return {name: before[name] for name, rows in now.items() if not rows and before.get(name)}


def _removal_guard(
    diff: DiffCounts, max_fraction: float, destination: str, emptied: Mapping[str, int]
) -> GuardStop | None:
    """Held back: leavers no run has begun to remove, too many of them (those a run began
    with were passed then, or confirmed: a confirmation holds until they are gone)."""
    leaving = diff.leaving_now
    if leaving == 0:
        return None
    allow = f"run `syncd sync {destination} --allow-removals`"
    if diff.desired == 0:
        return GuardStop(
            "emptySegment",
            f"the segments came back empty: removing all {leaving:,} contacts from the list "
            "is blocked",
            f"check the sources, and if this is intended, {allow} (no maxRemovalFraction "
            "lets an empty segment through)",
        )
    if emptied:
        # One segment of several emptied (an export cut short after its header, a table
        # reloaded): its leavers may be a small share of the list, and no fraction lets
        # them through.
        told = ", ".join(f"{name} ({rows:,} rows before)" for name, rows in emptied.items())
        return GuardStop(
            "emptySegment",
            f"segment(s) came back empty: {told}; removing the {leaving:,} contacts "
            "leaving the list is blocked",
            f"check the sources, and if this is intended, {allow} (no maxRemovalFraction "
            "lets an emptied segment through)",
        )
    confirm = f"if this is intended, {allow} or raise spec.limits.maxRemovalFraction"
    share = leaving / diff.acked if diff.acked else 1.0
    if share > max_fraction:
        return GuardStop(
            "removalFraction",
            f"{leaving:,} of {diff.acked:,} contacts ({share_over(share, max_fraction)}) would "
            f"leave the list, more than spec.limits.maxRemovalFraction "
            f"({percent(max_fraction)}); removals are blocked",
            confirm,
        )
    return None


def percent(fraction: float) -> str:
    """A limit as a percentage, as precise as it was written: 0.0001 reads 0.01%, not 0%."""
    return f"{fraction * 100:g}%"


def share_over(share: float, limit: float) -> str:
    """A share over `limit` as a percentage, with the fewest decimals that still read over
    it (a share of 20.4% over a limit of 20% is not "20%")."""
    for decimals in range(7):
        shown = f"{share * 100:.{decimals}f}"
        if float(shown) > limit * 100:
            return f"{shown}%"
    return f"{share * 100:g}%"
