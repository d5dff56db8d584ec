"""`make run`: the bundled emulator and the daemon on the example destinations.

Starts `syncd emulator` (seeded with the example lists) and `syncd run` on
`destinations.d/` with a fresh SQLite ledger, prints where to look, and keeps both
running until Ctrl-C. Both are real processes, configured only through the
environment, exactly as a user would run them.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

EMULATOR_PORT = int(os.environ.get("SYNCD_DEV_EMULATOR_PORT", "3030"))
ADMIN = os.environ.get("SYNCD_LISTEN", "127.0.0.1:9108")
STATE_DIR = Path(".syncd/dev")
DEV_KEY = "SG.make-run-local-key.not-a-real-key-the-emulator-accepts-any"


def _port_free(host: str, port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def _wait_for_port(host: str, port: int, process: subprocess.Popen[bytes], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        with socket.socket() as probe:
            if probe.connect_ex((host, port)) == 0:
                return True
        time.sleep(0.05)
    return False


def main() -> int:
    admin_host, _, admin_port = ADMIN.rpartition(":")
    for host, port, knob in (
        ("127.0.0.1", EMULATOR_PORT, "SYNCD_DEV_EMULATOR_PORT"),
        (admin_host, int(admin_port), "SYNCD_LISTEN"),
    ):
        if not _port_free(host, port):
            sys.stderr.write(f"port {port} is taken: free it or set {knob}\n")
            return 1
    # The emulator starts empty every time, so the ledger must too.
    shutil.rmtree(STATE_DIR, ignore_errors=True)
    STATE_DIR.mkdir(parents=True)
    emulator_url = f"http://127.0.0.1:{EMULATOR_PORT}"
    env = {
        **os.environ,
        "SENDGRID_API_KEY": DEV_KEY,
        "SYNCD_SENDGRID_BASE_URL": emulator_url,
        "SYNCD_DESTINATIONS": "destinations.d",
        "SYNCD_STATE": str(STATE_DIR / "state.db"),
        "SYNCD_LISTEN": ADMIN,
        "SYNCD_LOG_FORMAT": os.environ.get("SYNCD_LOG_FORMAT", "console"),
    }
    python = sys.executable
    emulator = subprocess.Popen(
        [
            python,
            "-m",
            "syncd",
            "emulator",
            "--port",
            str(EMULATOR_PORT),
            "--seed",
            "examples/emulator-seed.yaml",
            "--quiet",
        ],
        env=env,
    )
    if not _wait_for_port("127.0.0.1", EMULATOR_PORT, emulator, 10):
        emulator.terminate()
        sys.stderr.write("the emulator did not start\n")
        return 1
    daemon = subprocess.Popen([python, "-m", "syncd", "run"], env=env)
    print(
        f"""
syncd is running on the example destinations (destinations.d/) against the bundled emulator.

  page       http://{ADMIN}/   (the status page; JSON: http://{ADMIN}/v1/destinations)
  metrics    http://{ADMIN}/metrics
  sync now   curl -X POST http://{ADMIN}/v1/destinations/vip-newsletter/sync
  emulator   {emulator_url}/_emulator/state   (what "SendGrid" holds now)
  CLI        export SYNCD_STATE={STATE_DIR}/state.db SYNCD_SENDGRID_BASE_URL={emulator_url}
             export SENDGRID_API_KEY={DEV_KEY}
             .venv/bin/syncd status   (finds the daemon; plan, explain, audit, ... work the same)

Edit, add or break a file in destinations.d/ and watch it being picked up. Ctrl-C stops.
""",
        flush=True,
    )
    try:
        return daemon.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        for process in (daemon, emulator):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in (daemon, emulator):
            try:
                process.wait(timeout=25)
            except subprocess.TimeoutExpired:
                process.kill()


if __name__ == "__main__":
    raise SystemExit(main())
