"""The privacy notice every form links to."""

from flask import Blueprint, current_app, render_template

bp = Blueprint("privacy", __name__)


@bp.get("/privacy")
def notice():
    return render_template(
        "privacy/notice.html",
        retention_days=current_app.config["VIGIL_RETENTION_DAYS"],
        contact=current_app.config["VIGIL_CONTACT_EMAIL"],
    )
