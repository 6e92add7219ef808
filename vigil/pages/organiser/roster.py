"""The volunteer roster of an event, as a page and as CSV; each view is audit-logged."""

import io

from flask import Response, render_template
from flask_login import current_user

from ... import audit, rosters
from ...extensions import db
from ...models import Event
from ...spreadsheets import write_csv
from .access import Need, bp, organiser_view


def _audited_roster(event: Event, action: str) -> list:
    """The roster's rows, once the look at them is on the audit trail."""
    rows = rosters.roster(event)
    audit.record(current_user, action, event, rows=sum(len(r.people) for r in rows))
    db.session.commit()
    return rows


@bp.get("/events/<slug>/roster")
@organiser_view(Need.MANAGE)
def roster(event: Event):
    rows = _audited_roster(event, "view volunteer roster")
    return render_template(
        "organiser/roster.html",
        event=event,
        rows=rows,
        unplaced=rosters.without_shift(event),
    )


@bp.get("/events/<slug>/roster.csv")
@organiser_view(Need.MANAGE)
def roster_csv(event: Event):
    rows = _audited_roster(event, "export volunteer roster")
    buffer = io.StringIO()
    buffer.write("\ufeff")  # the BOM: spreadsheet apps then read Chinese names right
    write_csv(buffer, rosters.ROSTER_COLUMNS, rosters.roster_rows(rows))
    return Response(
        buffer.getvalue().encode("utf-8"),
        content_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{event.slug}-roster.csv"',
        },
    )
