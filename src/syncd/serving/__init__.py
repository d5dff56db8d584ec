"""The admin server: health, readiness, metrics, status JSON and pages, and on-demand runs.

```
app          the routes; every JSON answer scrubbed
unrouted     an API path without its route or method: the JSON error document, not text
pages        the status pages (HTML), from the same shapes; `chart` draws the run history
             as SVG, `page_layout` is their frame (inline style and script, strict CSP)
auth         who may change something: the token, constant-time, slowed after failures
host_token   the token the CLI on the daemon's host uses when none is configured
listening    a socket per application, with connection, head and body limits
plans        POST /v1/plans: candidate files planned as the daemon would run them
contacts     GET /v1/destinations/{name}/contacts/{email}: syncd explain, from the daemon
```
"""

from syncd.serving.app import Readiness, build_app, build_metrics_app
from syncd.serving.auth import AdminGate
from syncd.serving.contacts import Explainer
from syncd.serving.host_token import (
    create_host_token,
    host_token_path,
    read_host_token,
    remove_host_token,
)
from syncd.serving.listening import Listener
from syncd.serving.plans import PLAN_MAX_FILES, Planner

__all__ = [
    "PLAN_MAX_FILES",
    "AdminGate",
    "Explainer",
    "Listener",
    "Planner",
    "Readiness",
    "build_app",
    "build_metrics_app",
    "create_host_token",
    "host_token_path",
    "read_host_token",
    "remove_host_token",
]
