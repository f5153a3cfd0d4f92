"""The local web report: Starlette pages over the application facade, on 127.0.0.1 only.

`server` assembles the app (`create_app`, `local_socket`, `make_server`), `security`
keeps it safe from the other pages a browser has open, `templating` finds templates and
static files (the user's folder first), `chart` draws the score chart and meter bars.
Heavy imports (starlette, uvicorn, jinja2) happen when these modules are imported, never
from `engage.web` itself, so the CLI can name this package without paying for them.
"""
