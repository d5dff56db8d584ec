"""The SendGrid client: the only code that talks to SendGrid."""

from syncd.sendgrid.batching import MAX_BODY_BYTES, MAX_CONTACTS, Packer, upsert_body
from syncd.sendgrid.client import (
    REMOVE_LIMIT,
    ErrorsFileMissing,
    Job,
    ListInfo,
    SendGridClient,
)
from syncd.sendgrid.exporting import ExportGone, ExportState, ExportStopped, ExportUnusable
from syncd.sendgrid.http import SendGridHttp
from syncd.sendgrid.ratelimit import RateGate, RateGates
from syncd.sendgrid.refusals import Refusal
from syncd.sendgrid.scopes import missing_scopes
from syncd.sendgrid.searching import SEARCH_LIMIT, Found, Lookup
from syncd.sendgrid.together import at_most, let_go

__all__ = [
    "MAX_BODY_BYTES",
    "MAX_CONTACTS",
    "REMOVE_LIMIT",
    "SEARCH_LIMIT",
    "ErrorsFileMissing",
    "ExportGone",
    "ExportState",
    "ExportStopped",
    "ExportUnusable",
    "Found",
    "Job",
    "ListInfo",
    "Lookup",
    "Packer",
    "RateGate",
    "RateGates",
    "Refusal",
    "SendGridClient",
    "SendGridHttp",
    "at_most",
    "let_go",
    "missing_scopes",
    "upsert_body",
]
