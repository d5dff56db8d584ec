"""The `/v3/` API handlers, one module per resource."""

from __future__ import annotations

from aiohttp import web

from syncd.emulator.handlers import account, contacts, jobs, lists


def add_api_routes(app: web.Application) -> None:
    for module in (contacts, jobs, lists, account):
        app.add_routes(module.routes)
