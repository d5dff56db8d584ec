"""Steps 5 and 6: what search shows, and when.

Step 5 searches every second until each contact SendGrid accepted shows on the scratch
list with its values. A contact its job neither completed nor named in its errors file
(the file does not add up) is looked for too, and is taken as accepted only if search
finds it. Step 6 takes the contacts off the list, polls that job while searching until
they show off the list.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from syncd.reconciling.context import Limits
from syncd.reconciling.probing import judging
from syncd.reconciling.probing.examples import DATE_FIELD, NUMBER_FIELD, Fate, Role
from syncd.reconciling.probing.findings import ProbeReport, ProbeStopped, unobserved
from syncd.reconciling.probing.pacing import Pace, poll, wait_for_job
from syncd.reconciling.probing.workspace import Workspace
from syncd.sendgrid import Found, SendGridClient

NOT_LISTED = (
    "not named in its job's errors file, and search does not show it when it shows the others"
)
REFUSED_BY_SEARCH = (
    "not named in its job's errors file, and search refuses its address as invalid (taken "
    "as refused by the job too)"
)


async def search(
    client: SendGridClient,
    workspace: Workspace,
    fates: dict[Role, Fate],
    pace: Pace,
    removal_window: float,
    report: ProbeReport,
) -> dict[Role, Found]:
    """Wait until search shows the accepted contacts; settle the unaccounted ones in
    `fates`. The accepted contacts as search shows them."""
    assert workspace.list is not None
    list_id, examples = workspace.list.id, workspace.examples
    sure = [role for role, fate in fates.items() if fate.how == "accepted"]
    unsure = [role for role, fate in fates.items() if fate.how == "unaccounted"]
    if not sure and not unsure:
        why = (
            "SendGrid accepted no example contact (if it refused their addresses, run again "
            "with another --email-domain)"
        )
        report.add(unobserved("search-lag", why))
        return {}
    seen: dict[Role, Found] = {}
    unsearchable: set[Role] = set()  # search refuses to look these up: never awaited

    async def complete() -> bool | None:
        lookup = await client.lookup([examples.address(role) for role in sure + unsure])
        for role in sure + unsure:
            address = examples.address(role)
            if address in lookup.unsearchable:
                unsearchable.add(role)
            elif (contact := lookup.found.get(address)) is not None:
                seen[role] = contact
                workspace.ids[contact.email] = contact.id
        awaited = [role for role in sure or unsure if role not in unsearchable]
        return True if all(_shows(role, seen.get(role), list_id) for role in awaited) else None

    done, waited = await poll(complete, pace)
    if unsearchable >= set(sure or unsure):
        why = "search refuses to look up the addresses of the contacts SendGrid accepted"
        report.add(unobserved("search-lag", why))
    else:
        lag = waited if done else None
        report.add(judging.search_lag(lag, pace.max_wait, removal_window))
    for role in unsure:
        if role in seen:  # it exists, whatever search shows of it
            fates[role] = Fate("accepted")
        else:
            why = NOT_LISTED if role not in unsearchable else REFUSED_BY_SEARCH
            fates[role] = Fate("rejected in the job", why)
            workspace.possibly_present.discard(examples.address(role))
    return {role: seen[role] for role in seen if fates[role].how == "accepted"}


def _shows(role: Role, contact: Found | None, list_id: str) -> bool:
    if contact is None or list_id not in contact.list_ids:
        return False
    values = contact.fields.get("custom_fields")
    return role != "date" or (
        isinstance(values, Mapping) and {NUMBER_FIELD, DATE_FIELD} <= set(values)
    )


async def remove(
    client: SendGridClient,
    workspace: Workspace,
    contacts: list[Found],
    pace: Pace,
    report: ProbeReport,
) -> None:
    """Take the contacts off the list; poll that job while searching until they are off."""
    assert workspace.list is not None
    list_id = workspace.list.id
    answer = await client.remove_from_list(list_id, [contact.id for contact in contacts])
    if not isinstance(answer, str):
        raise ProbeStopped(
            f"SendGrid refused to take the example contacts off the list: {answer.summary()}"
        )
    emails = [contact.email for contact in contacts]

    async def off_the_list() -> bool | None:
        lookup = await client.lookup(emails)
        shown = [lookup.found.get(email) for email in emails]
        return True if all(c is None or list_id not in c.list_ids for c in shown) else None

    async with asyncio.TaskGroup() as group:
        polled = group.create_task(
            wait_for_job(client, answer, pace, unknown_grace=pace.unknown_job_grace)
        )
        searched = group.create_task(poll(off_the_list, pace))
    job, job_waited = polled.result()
    gone, waited = searched.result()
    report.add(judging.removal_job(job, job_waited, pace.unknown_job_grace))
    count = (await client.get_list(list_id)).contact_count
    grace = Limits().search_lag_grace
    report.add(judging.removal_applied(waited if gone else None, pace.max_wait, grace, count))
