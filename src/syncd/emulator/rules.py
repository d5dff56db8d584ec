"""SendGrid's rules as the emulator enforces them: limits, lengths, scopes, messages.

The constants behind the emulator's answers where SendGrid is silent live here, so that
each choice is made once; `docs/emulator.md` ("Choices where SendGrid is silent") lists
every choice for people, including those that are behaviour rather than a constant.
Change a rule here and there together.
"""

from __future__ import annotations

from typing import Final, Literal

# --- request limits (the spec's UpdateContact, ListContactByEmail) --------------------------------

MAX_CONTACTS_PER_UPSERT: Final = 30_000
# "6 MB" read as 6,000,000 bytes of request body. The real status code is undocumented
# undocumented; the emulator answers 413 because that is what an HTTP gateway sends.
MAX_UPSERT_BYTES: Final = 6_000_000
BODY_TOO_LARGE_STATUS: Final = 413
# aiohttp refuses bodies above this before a handler runs; it only has to exceed the 6 MB
# rule so that the rule, not the server, decides.
MAX_READ_BYTES: Final = 64 * 1024 * 1024
MAX_SEARCH_EMAILS: Final = 100
# search/emails limits each email to 100 characters (spec: ListContactByEmail).
MAX_SEARCH_EMAIL_LENGTH: Final = 100
MAX_ALTERNATE_EMAILS: Final = 5
MAX_LIST_NAME: Final = 100
MAX_LISTS_PAGE_SIZE: Final = 1000
DEFAULT_LISTS_PAGE_SIZE: Final = 100
MAX_CUSTOM_FIELDS: Final = 500
# Exports split files above `max_file_size` MB (spec: ExportContact; default 5000).
DEFAULT_EXPORT_FILE_MB: Final = 5000
EXPORT_MB: Final = 1_000_000
MAX_FIELD_NAME: Final = 100

# Field max lengths from ContactRequest; postal_code and phone_number_id have none.
FIELD_MAX_LENGTHS: Final[dict[str, int]] = {
    "email": 254,
    "external_id": 254,
    "anonymous_id": 254,
    "first_name": 50,
    "last_name": 50,
    "country": 50,
    "state_province_region": 50,
    "city": 60,
    "address_line_1": 100,
    "address_line_2": 100,
}
EMAIL_MAX_LENGTH: Final = 254
# Strict custom values (values.py). Text: the owner's safe limit, as SendGrid's legacy docs
# limited text custom fields in bytes (sendgrid/docs PR 2921) and the new API says nothing.
# Number: integers a double holds exactly (legacy docs: "309 digits", sendgrid/docs PR 2954).
MAX_TEXT_VALUE_BYTES: Final = 1000
MAX_EXACT_INTEGER: Final = 2**53
EMAIL_LOCAL_MAX_LENGTH: Final = 64

# Text fields an upsert may set. The last five are in the response schema but not in the
# request schema; the emulator accepts them, as the Okta connector suggests.
CONTACT_TEXT_FIELDS: Final = (
    "email",
    "phone_number_id",
    "external_id",
    "anonymous_id",
    "first_name",
    "last_name",
    "address_line_1",
    "address_line_2",
    "city",
    "state_province_region",
    "postal_code",
    "country",
    "phone_number",
    "whatsapp",
    "line",
    "facebook",
    "unique_name",
)
CONTACT_LIST_FIELDS: Final = ("alternate_emails",)

# The reserved fields of `GET /field_definitions`, as in the spec's example. The
# identifier fields are left out as the example leaves them out.
RESERVED_FIELDS: Final[tuple[tuple[str, str, str, bool], ...]] = (
    ("_rf0_T", "first_name", "Text", False),
    ("_rf1_T", "last_name", "Text", False),
    ("_rf2_T", "email", "Text", False),
    ("_rf3_T", "alternate_emails", "Text", False),
    ("_rf4_T", "address_line_1", "Text", False),
    ("_rf5_T", "address_line_2", "Text", False),
    ("_rf6_T", "city", "Text", False),
    ("_rf7_T", "state_province_region", "Text", False),
    ("_rf8_T", "postal_code", "Text", False),
    ("_rf9_T", "country", "Text", False),
    ("_rf10_T", "phone_number", "Text", False),
    ("_rf11_T", "whatsapp", "Text", False),
    ("_rf12_T", "line", "Text", False),
    ("_rf13_T", "facebook", "Text", False),
    ("_rf14_T", "unique_name", "Text", False),
    ("_rf15_T", "email_domains", "Text", True),
    ("_rf16_D", "last_clicked", "Date", True),
    ("_rf17_D", "last_opened", "Date", True),
    ("_rf18_D", "last_emailed", "Date", True),
    ("_rf19_T", "singlesend_id", "Text", True),
    ("_rf20_T", "automation_id", "Text", True),
    ("_rf21_D", "created_at", "Date", True),
    ("_rf22_D", "updated_at", "Date", True),
    ("_rf23_T", "contact_id", "Text", True),
)

FieldType = Literal["Text", "Number", "Date"]
FIELD_TYPE_SUFFIX: Final[dict[str, str]] = {"Text": "T", "Number": "N", "Date": "D"}

# --- jobs -----------------------------------------------------------------------------------------

JobType = Literal["upsert", "delete"]
JobStatus = Literal["pending", "completed", "errored", "failed"]
# Both kinds of deletion report job_type "delete" and are pollable through
# `/contacts/imports/{id}`: the spec knows only upsert and delete (docs/sendgrid-fidelity.md).
LIST_REMOVAL_JOB_TYPE: Final[JobType] = "delete"

# --- auth (GET /v3/scopes; which scope each endpoint needs is undocumented) -----------------------

READ = "marketing.read"
CREATE = "marketing_campaigns.create"
UPDATE = "marketing_campaigns.update"
DELETE = "marketing_campaigns.delete"
ALL_SCOPES: Final = frozenset({READ, CREATE, UPDATE, DELETE, "marketing_campaigns.read"})

# Scopes each endpoint needs, all of them. An upsert both creates and updates.
REQUIRED_SCOPES: Final[dict[str, frozenset[str]]] = {
    "PUT /v3/marketing/contacts": frozenset({CREATE, UPDATE}),
    "DELETE /v3/marketing/contacts": frozenset({DELETE}),
    "GET /v3/marketing/contacts/count": frozenset({READ}),
    "GET /v3/marketing/contacts/{id}": frozenset({READ}),
    "GET /v3/marketing/contacts/imports/{id}": frozenset({READ}),
    "POST /v3/marketing/contacts/search/emails": frozenset({READ}),
    "POST /v3/marketing/contacts/exports": frozenset({READ}),
    "GET /v3/marketing/contacts/exports/{id}": frozenset({READ}),
    "GET /v3/marketing/lists": frozenset({READ}),
    "POST /v3/marketing/lists": frozenset({CREATE}),
    "GET /v3/marketing/lists/{id}": frozenset({READ}),
    "DELETE /v3/marketing/lists/{id}": frozenset({DELETE}),
    "GET /v3/marketing/lists/{id}/contacts/count": frozenset({READ}),
    "DELETE /v3/marketing/lists/{id}/contacts": frozenset({DELETE}),
    "GET /v3/marketing/field_definitions": frozenset({READ}),
    "POST /v3/marketing/field_definitions": frozenset({CREATE}),
    "DELETE /v3/marketing/field_definitions/{custom_field_id}": frozenset({DELETE}),
    "GET /v3/scopes": frozenset(),
}

# What a legacy (non-Marketing-Campaigns) account may not use: everything but scopes.
MARKETING_PATH_PREFIX: Final = "/v3/marketing/"

# --- rate limits (SendGrid's rate limits page; the budgets are undocumented) ----------------------

# Per (API key, endpoint template), in fixed windows; 600/min is the one published default.
DEFAULT_RATE_LIMIT: Final = 600
DEFAULT_RATE_WINDOW: Final = 60.0
# The limit, remaining and reset headers: as SendGrid's docs spell them, and as a captured
# real response spells them. Header names are case-insensitive; a client must not care.
RATE_LIMIT_HEADERS: Final[dict[str, tuple[str, str, str]]] = {
    "canonical": ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"),
    "sendgrid": ("X-Ratelimit-Limit", "X-Ratelimit-Remaining", "X-Ratelimit-Reset"),
}

# --- messages -------------------------------------------------------------------------------------

MSG_AUTH_REQUIRED: Final = "authorization required"
MSG_AUTH_INVALID: Final = "The provided authorization grant is invalid, expired, or revoked"
MSG_FORBIDDEN: Final = "access forbidden"
MSG_TOO_MANY_REQUESTS: Final = "too many requests"
MSG_DELETE_PARAMS: Final = "either 'ids' OR 'delete_all_contacts' should be supplied as query param"
MSG_LIST_NOT_FOUND: Final = (
    "The specified list ID does not exist or one or more contact IDs do not exist."
)
MSG_CONTACT_NOT_FOUND: Final = "contact not found"
# UpdateContact: "In order to update a contact, all of its existing identifiers must be
# present". Whether it is refused up front or in the job is undocumented: in the job here.
IDENTIFIERS: Final = ("phone_number_id", "external_id", "anonymous_id")
MSG_IDENTIFIERS_MISSING: Final = (
    "in order to update a contact, all of its existing identifiers must be present"
)
MSG_FIELD_NOT_FOUND: Final = "custom field not found"
MSG_NO_CONTACTS_FOUND: Final = "No contacts found"
MSG_JOB_NOT_FOUND: Final = "job not found"
MSG_EXPORT_NOT_FOUND: Final = "export not found"
MSG_INTERNAL: Final = "internal server error"
MSG_CONTACT_LIMIT: Final = "you have hit your contact limit"
MSG_INJECTED: Final = "injected fault"


def body_too_large_message(size: int) -> str:
    return f"request body too large: {size} bytes, the limit is {MAX_UPSERT_BYTES}"
