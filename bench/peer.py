"""The peer: the diff script a careful team would write instead of syncd, measured beside it.

    python bench/peer.py --csv FILE --state PEER.db --base-url URL --list-id ID

Standard library only, as such a script would be: read the whole segment into a dict,
the SHA-256 of each contact's payload, compare with a SQLite table of the hashes SendGrid
acknowledged, PUT what differs 30,000 contacts at a time, poll each job until it ends, and
record the hashes of the jobs that completed. No removals, no retries beyond a simple
wait on 429, no outbox: a crash loses track of what was in flight. It prints one JSON line
with what it did. The API key comes from SENDGRID_API_KEY.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import http.client
import json
import os
import sqlite3
import sys
import time
from urllib.parse import urlsplit

BATCH = 30_000
MAPPING = {  # SendGrid field ← CSV column, as the benchmark's destination maps them
    "email": "Email",
    "first_name": "FirstName",
    "last_name": "LastName",
    "country": "Country",
    "state_province_region": "State",
    "city": "City",
    "postal_code": "PostalCode",
}


class SendGrid:
    def __init__(self, base_url: str, key: str) -> None:
        parts = urlsplit(base_url)
        self.connection = http.client.HTTPConnection(parts.hostname or "", parts.port or 80)
        self.headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}

    def request(self, method: str, path: str, body: bytes | None = None) -> dict[str, object]:
        while True:
            self.connection.request(method, path, body=body, headers=self.headers)
            response = self.connection.getresponse()
            data = response.read()
            if response.status == 429:
                reset = float(response.getheader("X-RateLimit-Reset") or time.time() + 1)
                time.sleep(max(1.0, reset - time.time()))
                continue
            if response.status >= 300:
                raise RuntimeError(f"{method} {path}: {response.status} {data[:200]!r}")
            return json.loads(data) if data else {}


def read_segment(path: str) -> dict[str, dict[str, str]]:
    contacts: dict[str, dict[str, str]] = {}
    with open(path, newline="", encoding="utf-8") as handle:  # noqa: PTH123
        for row in csv.DictReader(handle):
            email = (row.get(MAPPING["email"]) or "").strip().lower()
            if "@" not in email or email in contacts:
                continue
            payload = {"email": email}
            for field, column in MAPPING.items():
                value = (row.get(column) or "").strip()
                if field != "email" and value:
                    payload[field] = value
            contacts[email] = payload
    return contacts


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--csv", required=True)
    parser.add_argument("--state", required=True)
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--list-id", required=True)
    args = parser.parse_args()
    db = sqlite3.connect(args.state)
    db.execute("CREATE TABLE IF NOT EXISTS acked (email TEXT PRIMARY KEY, hash TEXT NOT NULL)")
    acked = dict(db.execute("SELECT email, hash FROM acked"))
    changed: list[tuple[str, str, dict[str, str]]] = []
    for email, payload in read_segment(args.csv).items():
        digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
        if acked.get(email) != digest:
            changed.append((email, digest, payload))
    api = SendGrid(args.base_url, os.environ["SENDGRID_API_KEY"])
    jobs = []
    for start in range(0, len(changed), BATCH):
        chunk = changed[start : start + BATCH]
        body = json.dumps({"list_ids": [args.list_id], "contacts": [c[2] for c in chunk]})
        job = api.request("PUT", "/v3/marketing/contacts", body.encode())
        jobs.append((str(job["job_id"]), chunk))
    for job_id, chunk in jobs:
        while True:
            status = api.request("GET", f"/v3/marketing/contacts/imports/{job_id}")
            if status.get("status") in ("completed", "errored", "failed"):
                break
            time.sleep(0.5)
        if status.get("status") == "completed":
            db.executemany(
                "INSERT OR REPLACE INTO acked VALUES (?, ?)", [(c[0], c[1]) for c in chunk]
            )
            db.commit()
    print(json.dumps({"sent": len(changed), "requests": len(jobs)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
