"""The SendGrid client: the only code that talks to SendGrid."""

from syncd.sendgrid.batching import MAX_BODY_BYTES, MAX_CONTACTS, Packer, upsert_body
from syncd.sendgrid.client import REMOVE_LIMIT, SEARCH_LIMIT, Job, ListInfo, SendGridClient
from syncd.sendgrid.http import SendGridHttp
from syncd.sendgrid.ratelimit import RateGate, RateGates

__all__ = [
    "MAX_BODY_BYTES",
    "MAX_CONTACTS",
    "REMOVE_LIMIT",
    "SEARCH_LIMIT",
    "Job",
    "ListInfo",
    "Packer",
    "RateGate",
    "RateGates",
    "SendGridClient",
    "SendGridHttp",
    "upsert_body",
]
