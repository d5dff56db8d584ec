"""Pure decisions: from the diff's counts and the destination's limits to a plan.

No I/O, no clock, no logging: the same inputs always give the same plan, which is
what `syncd plan` prints and what a run then carries out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from syncd.errors import GuardTripped

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
class Plan:
    diff: DiffCounts
    removal_action: RemovalAction
    removals_blocked: str | None
    """Why removals are held back this run, or None."""

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
        raise GuardTripped(
            "spec.consent.dataPrivacyAcknowledged is not true, so nothing is exported; set it "
            "to true once the data owner has agreed to export these profiles to SendGrid"
        )


def profile_limit_exceeded(profiles: int, max_profiles: int) -> GuardTripped | None:
    if profiles <= max_profiles:
        return None
    return GuardTripped(
        f"the segments hold more than {max_profiles:,} profiles (spec.limits.maxProfiles), "
        f"so nothing was sent; raise the limit if {profiles:,}+ is expected, or narrow the "
        "segments"
    )


def decide(
    diff: DiffCounts,
    *,
    on_leave: str,
    max_removal_fraction: float,
    allow_removals: bool,
    destination: str,
) -> Plan:
    action = ON_LEAVE_ACTION[on_leave]
    return Plan(
        diff=diff,
        removal_action=action,
        removals_blocked=None
        if allow_removals or action == "forget"
        else _removal_guard(diff, max_removal_fraction, destination),
    )


def _removal_guard(diff: DiffCounts, max_fraction: float, destination: str) -> str | None:
    if diff.gone == 0:
        return None
    confirm = (
        f"if this is intended, run `syncd sync {destination} --allow-removals` or raise "
        "spec.limits.maxRemovalFraction"
    )
    if diff.desired == 0:
        return (
            f"the segments came back empty: removing all {diff.gone:,} contacts from the list "
            f"is blocked; check the sources, and {confirm}"
        )
    share = diff.gone / diff.acked if diff.acked else 1.0
    if share > max_fraction:
        return (
            f"{diff.gone:,} of {diff.acked:,} contacts ({share:.0%}) would leave the list, more "
            f"than spec.limits.maxRemovalFraction ({max_fraction:.0%}); removals are blocked; "
            f"{confirm}"
        )
    return None
