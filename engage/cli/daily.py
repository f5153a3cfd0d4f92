"""`engage digest`: the page each morning, built by the application from the day's agenda;
written to the data folder, and e-mailed on request."""

from __future__ import annotations

from pathlib import Path

import click

from engage.cli.output import echo, echo_json
from engage.launch import config_option, data_option, open_app


@click.command("digest")
@click.option("--date", "day", default=None, metavar="DAY",
              help="The day (default today): ISO date, 'yesterday', 'monday'…")  # fmt: skip
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the page here instead of the data folder's digests/.")  # fmt: skip
@click.option("--send", "mail", is_flag=True, help="Also e-mail it (settings.digest).")
@click.option("--open", "show", is_flag=True, help="Open the page in the browser.")
@click.option("--json", "as_json", is_flag=True, help="Print the digest's content as JSON.")
@config_option
@data_option
def digest(
    day: str | None,
    out: Path | None,
    mail: bool,
    show: bool,
    as_json: bool,
    config_path: Path | None,
    data_dir: Path | None,
) -> None:
    """Build the daily digest: who is ready to ask, follow-ups due, posts worth a comment,
    warm introductions, who is going quiet, and feeds that need attention. Writes
    digests/YYYY-MM-DD.html (and latest.html) in the data folder and prints its path.

    With --send it is also e-mailed (plain text and HTML); a failure to send is one line
    and a non-zero exit, and the page is written anyway.

    \b
    Example:
      engage digest
      engage digest --date yesterday --out /tmp/digest.html --open
      engage digest --send
    """
    app = open_app(config_path, data_dir)
    if as_json:
        from engage.views import agenda_json

        echo_json(agenda_json(app.agenda(day)))
        return
    built = app.build_digest(day, out=out)
    echo(str(built.page))
    if mail:
        echo(app.send_digest(built))
    if show:
        import webbrowser

        webbrowser.open(built.page.resolve().as_uri())
