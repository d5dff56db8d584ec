"""`syncd forget`: an erasure request, carried out alike from the CLI and the daemon.

1. The address is keyed as rows are (`address_key`) and its salted hash kept, for every
   destination or one: from then on every run drops its rows while reading them.
2. Every destination in scope the ledger knows (with a file or not) loses every record
   of the address (`LedgerSession.erase`).
3. With `delete_in_sendgrid`, once per SendGrid account (base URL and API key) among
   the destination files in scope: an erasure is queued on one destination using it
   (one not suspended, first by name) and carried out at once through its outbox
   (`erase`); what SendGrid's search has not confirmed yet, that destination's runs
   finish.

Undo lifts the hash and cancels erasures not done yet; the next run of each destination
in scope reads its sources again. The caller makes sure no run of a destination in scope
is in progress: the daemon waits for them, the CLI holds the ledger's lock. Nothing here
logs or returns the address.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from syncd.contacts import Refused, address_key
from syncd.errors import PermanentError, SyncdError
from syncd.ledger import EVERY_DESTINATION, Erased, Ledger
from syncd.loading import LoadedDestination
from syncd.logs import get_logger
from syncd.reconciling.applying import Applied, Applier
from syncd.reconciling.run import Reconciler
from syncd.reconciling.threads import in_thread, session_of

log = get_logger("syncd.reconciling")

Outcome = Literal["deleted", "sent", "not found yet", "waiting", "given up", "failed"]


class ForgetRefused(PermanentError):
    """A forget request that cannot be carried out as asked; nothing was changed."""

    def __init__(self, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class ForgetRequest:
    address: str
    destination: str | None = None
    """Only this destination; every one when None."""
    delete_in_sendgrid: bool = False
    undo: bool = False


@dataclass(frozen=True)
class Deletion:
    """Where the deletion of the contact from one SendGrid account stands."""

    destination: str
    """The destination whose API key and outbox carry it out ("" when there is none)."""
    outcome: Outcome
    detail: str = ""


@dataclass
class ForgetReport:
    undo: bool
    destination: str | None
    changed: bool
    """The hash was newly kept (forget), or lifted (undo)."""
    erased: list[Erased] = field(default_factory=list)
    deletions: list[Deletion] = field(default_factory=list)
    still_forgotten: list[str] = field(default_factory=list)
    """Undo: where the address stays forgotten ("" for every destination)."""
    cancelled_erasures: int = 0

    @property
    def failed(self) -> bool:
        return any(d.outcome == "failed" for d in self.deletions)

    def as_json(self) -> dict[str, Any]:
        return {
            "undo": self.undo,
            "destination": self.destination,
            "changed": self.changed,
            "destinations": [
                {
                    "name": e.destination,
                    "acknowledged": e.acknowledged,
                    "retries": e.retries,
                    "removals": e.removals,
                    "rejections": e.rejections,
                    "errors": e.errors,
                    "unsent": e.unsent,
                    "inFlight": e.in_flight,
                }
                for e in self.erased
            ],
            "sendgrid": [
                {"destination": d.destination, "outcome": d.outcome, "detail": d.detail}
                for d in self.deletions
            ],
            "stillForgotten": self.still_forgotten,
            "cancelledErasures": self.cancelled_erasures,
        }


def keyed(address: str) -> str:
    """The address as rows are keyed (what its hash is taken of), or ForgetRefused."""
    try:
        key = address_key(address)
    except Refused as refused:
        raise ForgetRefused(f"that address cannot be a contact's: {refused}") from None
    if "@" not in key or key.startswith("@") or key.endswith("@"):
        raise ForgetRefused("that is not an email address (local part, @, domain)")
    return key


class Forgetting:
    def __init__(self, ledger: Ledger, reconciler: Reconciler) -> None:
        self.ledger = ledger
        self.reconciler = reconciler

    async def in_scope(
        self, request: ForgetRequest, files: Mapping[str, LoadedDestination]
    ) -> list[str]:
        """The destinations a request touches (the ledger's and the files'), checked:
        no run of them may be in progress while it is carried out."""
        known = sorted(set(await in_thread(self.ledger.destination_names)) | set(files))
        if request.destination is None:
            return known
        if request.destination not in known:
            listed = ", ".join(known) or "none"
            raise ForgetRefused(
                f"no destination named {request.destination!r} in the ledger or the "
                f"destination files (known: {listed})",
                status=404,
            )
        return [request.destination]

    async def carry_out(
        self,
        request: ForgetRequest,
        files: Mapping[str, LoadedDestination],
        *,
        stopping: Callable[[], bool],
    ) -> ForgetReport:
        address = keyed(request.address)
        if request.undo and request.delete_in_sendgrid:
            raise ForgetRefused("--undo cannot delete in SendGrid: leave out one of them")
        names = await self.in_scope(request, files)
        if request.undo:
            return await self._undo(request, address, names)
        if request.delete_in_sendgrid and request.destination is not None:
            await self._refuse_other_holders(address, request.destination)
        digest = await in_thread(self.ledger.digest, address)
        scope = request.destination or EVERY_DESTINATION
        report = ForgetReport(
            undo=False,
            destination=request.destination,
            changed=await in_thread(self.ledger.remember, digest, scope),
        )
        for name in names:
            report.erased.append(await in_thread(self._erase_records, name, address))
        if request.delete_in_sendgrid:
            in_files = [files[name] for name in names if name in files]
            report.deletions = await self._delete(address, in_files, stopping)
        log.info(
            "forget.done",
            scope=request.destination or "every destination",
            destinations=len(report.erased),
            held=sum(1 for e in report.erased if e.held),
            sendgrid=[d.outcome for d in report.deletions],
        )
        return report

    def _erase_records(self, name: str, address: str) -> Erased:
        with self.ledger.session(name) as session:
            return session.erase(address)

    async def _refuse_other_holders(self, address: str, destination: str) -> None:
        """Deleting a contact from an account takes it off every list there: refused while
        destinations left out of the request still hold the address."""
        others = [
            name
            for name in await in_thread(self.ledger.destination_names)
            if name != destination and await in_thread(self.ledger.holds, name, address)
        ]
        if others:
            raise ForgetRefused(
                f"--delete-in-sendgrid deletes the contact from the whole SendGrid account, "
                f"but {', '.join(others)} also hold this address: forget it for every "
                "destination (leave out --destination), or take it out of their segments "
                "first",
                status=409,
            )

    async def _delete(
        self,
        address: str,
        files: list[LoadedDestination],
        stopping: Callable[[], bool],
    ) -> list[Deletion]:
        deletions: list[Deletion] = []
        accounts: dict[tuple[str, str], LoadedDestination] = {}
        for loaded in sorted(files, key=lambda d: (d.definition.spec.suspend, d.name)):
            try:
                client, key_id = await self.reconciler.client_for(loaded)
            except SyncdError as error:
                deletions.append(Deletion(loaded.name, "failed", error.message))
                continue
            accounts.setdefault((client.http.base_url, key_id), loaded)
        if not files:
            reason = "no destination file in scope names a SendGrid account to delete it from"
            deletions.append(Deletion("", "failed", reason))
        for loaded in accounts.values():
            deletions.append(await self._erase_in(loaded, address, stopping))
        return deletions

    async def _erase_in(
        self, loaded: LoadedDestination, address: str, stopping: Callable[[], bool]
    ) -> Deletion:
        name = loaded.name
        async with session_of(self.ledger, name) as session:
            await in_thread(session.queue_erasure, address)
        try:
            applied = await erase(self.reconciler, loaded, stopping=stopping)
        except SyncdError as error:
            return Deletion(name, "failed", f"{error.message} ({name}'s runs try again)")
        if stopping():
            return Deletion(name, "failed", f"syncd is stopping; {name}'s runs carry it out")
        async with session_of(self.ledger, name) as session:
            pending = {e.email: e for e in await in_thread(session.erasures)}
            waiting = await in_thread(session.erasures_waiting)
        erasure = pending.get(address)
        if erasure is None:
            if address in applied.erasures_given_up:
                return Deletion(name, "given up", applied.erasures_given_up[address])
            return Deletion(name, "deleted", "SendGrid's search no longer finds it")
        later = f"{name}'s runs finish it"
        if address in waiting:
            return Deletion(name, "waiting", f"a job carrying it is still in flight; {later}")
        if erasure.sent_at is not None:
            return Deletion(name, "sent", f"SendGrid accepted; its search must confirm. {later}")
        return Deletion(name, "not found yet", f"search may lag behind SendGrid's jobs; {later}")

    async def _undo(self, request: ForgetRequest, address: str, names: list[str]) -> ForgetReport:
        digest = await in_thread(self.ledger.digest, address)
        lifted = await in_thread(self.ledger.lift, digest, request.destination)
        report = ForgetReport(
            undo=True,
            destination=request.destination,
            changed=bool(lifted),
            still_forgotten=await in_thread(self.ledger.scopes, digest),
        )
        ledger_names = set(await in_thread(self.ledger.destination_names))
        for name in (n for n in names if n in ledger_names):
            report.cancelled_erasures += await in_thread(self._reread, name, address)
        log.info("forget.undone", scope=request.destination or "every destination")
        return report

    def _reread(self, name: str, address: str) -> int:
        """The next run reads the sources again (the address may be sent again); an
        erasure not done yet is cancelled. Returns how many were."""
        with self.ledger.session(name) as session:
            session.mark_in_sync(None)
            cancelled = [e.email for e in session.erasures() if e.email == address]
            session.erasures_done(cancelled)
        return len(cancelled)


async def erase(
    reconciler: Reconciler, loaded: LoadedDestination, *, stopping: Callable[[], bool]
) -> Applied:
    """The SendGrid side of erasure for one account, outside a run: what the destination's
    earlier runs left open is finished first (as its next run would), then its erasures."""
    spec = loaded.definition.spec
    async with session_of(reconciler.ledger, loaded.name) as session:
        client, key_id = await reconciler.client_for(loaded)
        hint = spec.sendgrid.api_key.describe()
        checked = await reconciler.preflight.check(
            client, spec, key_id=key_id, hint=hint, erases=True
        )
        applier = Applier(
            session,
            client,
            binding=checked.binding,
            run_id=None,
            segment_names=[s.name for s in spec.segments],
            limits=reconciler.limits,
            clock=reconciler.clock,
            stopping=stopping,
        )
        await applier.resume()
        return applier.result
