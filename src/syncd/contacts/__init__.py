"""From a source row to the exact SendGrid payload, and its fingerprint.

Three stages, so the hot path stays cheap:

* `ContactBuilder.key` runs for every row of every run and does as little as it can:
  the email as the row's key, the source values encoded, and their fingerprint
  (`raw`). A row whose values are those SendGrid acknowledged needs nothing more.
* `ContactBuilder.build` runs for the other rows: trim, lower-case the email, enforce
  SendGrid's field lengths, encode the payload canonically and fingerprint it.
  Custom fields are still keyed by *name* here.
* `Outgoing.encode` runs only for contacts about to be sent (new or changed):
  full email syntax check, custom-field typing, names replaced by SendGrid ids.

The fingerprint covers the name-keyed payload of non-blank values; the
`FieldBinding` digest covers what turns it into the bytes sent (list id, field ids
and types). Blank values are left out of the fingerprint on purpose: mapping a new
column re-sends only the contacts that have a value in it. When a contact is sent,
its blank mapped fields go out as `""`, so a value cleared in the source is
cleared in SendGrid too.
"""

from syncd.contacts.addresses import plainly_valid
from syncd.contacts.building import FIELD_LIMITS, Built, ContactBuilder, fingerprint, to_signed64
from syncd.contacts.sending import (
    CustomField,
    FieldBinding,
    Outgoing,
    UnknownCustomFieldsError,
    bind_fields,
)

__all__ = [
    "FIELD_LIMITS",
    "Built",
    "ContactBuilder",
    "CustomField",
    "FieldBinding",
    "Outgoing",
    "UnknownCustomFieldsError",
    "bind_fields",
    "fingerprint",
    "plainly_valid",
    "to_signed64",
]
