"""A local, stateful stand-in for the parts of SendGrid's Marketing Campaigns API syncd uses.

```python
from syncd.emulator import EmulatorConfig, FaultRule, running_emulator

async with running_emulator(EmulatorConfig(job_delay=0.5)) as emulator:
    emulator.faults.add(FaultRule(kind="status", template="PUT /v3/marketing/contacts", times=1))
    ...  # point a SendGrid client at emulator.url
```

See docs/emulator.md. This package imports nothing from the rest of syncd.
"""

from __future__ import annotations

from syncd.emulator.app import Emulator, running_emulator
from syncd.emulator.config import ContactSeed, EmulatorConfig, FieldSeed, ListSeed, RateBudget
from syncd.emulator.faults import FaultRule
from syncd.emulator.recording import Exchange
from syncd.emulator.rules import ALL_SCOPES

__all__ = [
    "ALL_SCOPES",
    "ContactSeed",
    "Emulator",
    "EmulatorConfig",
    "Exchange",
    "FaultRule",
    "FieldSeed",
    "ListSeed",
    "RateBudget",
    "running_emulator",
]
