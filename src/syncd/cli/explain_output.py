"""How `syncd explain` reads on a terminal: the story first, then the details behind it."""

from __future__ import annotations

from syncd.shapes import BatchRecord, ContactInDestination, ExplainDocument, FieldValue


def explain_text(document: ExplainDocument) -> str:
    if not document.destinations:
        return f"{document.email}: in no segment, and syncd has no record of it"
    blocks = [document.email]
    blocks += [_destination(d) for d in document.destinations]
    return "\n\n".join(blocks)


def _destination(d: ContactInDestination) -> str:
    lines = [f"{d.destination}{f' ({d.file})' if d.file else ''}: {d.state}", f"  {d.summary}"]
    if d.rows:
        rows = ", ".join(
            f"{r.segment} row {r.row}" + (" (used)" if r.used and len(d.rows) > 1 else "")
            for r in d.rows
        )
        lines.append(f"  rows          {rows}")
    if d.values:
        lines.append(f"  values        {_values(d.values)}")
    acked = d.acknowledged
    if acked is not None:
        carried = f" · {_batch(acked.batch)}" if acked.batch else ""
        lines.append(f"  acknowledged  {acked.at}{carried}")
    if d.in_flight is not None:
        lines.append(f"  in flight     {_batch(d.in_flight)}")
    rejection = d.rejection
    if rejection is not None:
        tries = (
            f" ({rejection.attempts} refusal(s), {rejection.retries_left} retry(ies) left)"
            if rejection.attempts
            else ""
        )
        lines.append(f"  rejected      {rejection.reason}{tries}")
    removal = d.pending_removal
    if removal is not None:
        facts = []
        if removal.sent_at:
            facts.append(f"removal accepted {removal.sent_at} ({removal.sends} time(s))")
        if removal.first_missed_at:
            facts.append(f"not found by search since {removal.first_missed_at}")
        lines.append(f"  removal       {'; '.join(facts) or 'not sent yet'}")
    if d.departure is not None:
        lines.append(f"  left          {d.departure.how} {d.departure.at}")
    live = d.live
    if live is not None:
        if not live.found:
            lines.append(f"  SendGrid now  not found: {live.note}")
        else:
            where = "on the list" if live.on_list else "in the account, not on the list"
            lines.append(f"  SendGrid now  {where} · {_values(live.values) or 'no mapped values'}")
            # In sync, syncd sends nothing: the value on the right is what it acknowledged.
            ours = "what SendGrid acknowledged" if d.state == "inSync" else "what syncd sends"
            for change in live.changes:
                before = change.before if change.before is not None else "(blank)"
                after = change.after if change.after is not None else "(blank)"
                lines.append(f"    {change.field}: {before} → {after} ({ours})")
            lines.append(f"    ({live.note})")
    return "\n".join(lines)


def _values(values: list[FieldValue]) -> str:
    return " · ".join(f"{v.field}={v.value}" for v in values)


def _batch(batch: BatchRecord | None) -> str:
    if batch is None:
        return ""
    job = f", job {batch.job_id}" if batch.job_id else ""
    run = f", run {batch.run}" if batch.run else ""
    return f"batch {batch.batch} ({batch.kind}{job}{run}): {batch.state}"
