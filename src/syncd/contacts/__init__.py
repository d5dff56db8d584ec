"""From a source row to the exact SendGrid payload, and its fingerprint.

Three stages, so the hot path stays cheap:

* `ContactBuilder.key` runs for every row of every run and does as little as it can:
  the email as the row's key (`addresses`: an ASCII address is only trimmed and
  lower-cased), the source values encoded, and their fingerprint (`raw`). A row whose
  values are those SendGrid acknowledged needs nothing more.
* `ContactBuilder.build` runs for the other rows: enforce SendGrid's field lengths,
  refuse control characters, encode the payload canonically and fingerprint it.
  Custom fields are still keyed by *name* and hold text here.
* `Outgoing.encode` runs only for contacts about to be sent (new or changed): full
  email syntax check, custom values typed as SendGrid takes them (`values`), names
  replaced by SendGrid ids.

Each stage returns a reason instead of raising, whatever the row holds: one row
never stops a run.

The fingerprint covers the name-keyed payload of non-blank values; the
`FieldBinding` digest covers what turns it into the bytes sent (list id, field ids
and types). Blank values are left out of the fingerprint on purpose: mapping a new
column re-sends only the contacts that have a value in it. When a contact is sent,
its blank text fields go out as `""`, so a value cleared in the source is cleared in
SendGrid too; a blank Number or Date is left out (SendGrid refuses `""` there, or may).
"""

from syncd.contacts.addresses import address_key, plainly_valid
from syncd.contacts.building import (
    FIELD_LIMITS,
    NO_EMAIL,
    Built,
    ContactBuilder,
    refuses_the_address,
)
from syncd.contacts.fingerprints import fingerprint, to_signed64
from syncd.contacts.forgotten import NOTHING_FORGOTTEN, Forgotten, new_salt
from syncd.contacts.forgotten import digest as forgotten_digest
from syncd.contacts.sending import (
    CustomField,
    FieldBinding,
    Outgoing,
    UnknownCustomFieldsError,
    bind_fields,
)
from syncd.contacts.values import Refused

__all__ = [
    "FIELD_LIMITS",
    "NOTHING_FORGOTTEN",
    "NO_EMAIL",
    "Built",
    "ContactBuilder",
    "CustomField",
    "FieldBinding",
    "Forgotten",
    "Outgoing",
    "Refused",
    "UnknownCustomFieldsError",
    "address_key",
    "bind_fields",
    "fingerprint",
    "forgotten_digest",
    "new_salt",
    "plainly_valid",
    "refuses_the_address",
    "to_signed64",
]
