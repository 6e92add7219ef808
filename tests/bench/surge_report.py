"""The surge benchmark's results for one engine as a markdown table, beside the
goals of the issue that asked for them. Used by `bench_surge.py`."""


def _ms(value) -> str:
    if value is None:
        return "–"
    return f"{value / 1000:.2f} s" if value >= 1000 else f"{value:.1f} ms"


def _counts(counts: dict) -> str:
    return ", ".join(f"{k}: {v}" for k, v in counts.items()) or "none"


def _wrk_row(name: str, run: dict, bare_rps: float, goal: str) -> str:
    errors = {k: v for k, v in run["socket_errors"].items() if v}
    if run["non_2xx_3xx"]:
        errors["non-2xx/3xx"] = run["non_2xx_3xx"]
    text = (
        f"{run['requests_per_s']:,.0f} req/s · p50 {_ms(run['p50_ms'])} · p99 {_ms(run['p99_ms'])}"
    )
    if errors:
        text += f" · errors {_counts(errors)}"
    if len(run.get("rounds", [])) > 1:
        text += " · rounds " + " / ".join(f"{r:,.0f}" for r in run["rounds"])
    return f"| {name} | {text} | {run['requests_per_s'] / bare_rps:.2f} | {goal} |"


def _places(stored: dict) -> tuple[int, str]:
    by_status = stored["by_status"]
    held = by_status.get("confirmed", {}).get("places", 0)
    parts = [f"{s} {v['rsvps']}" for s, v in sorted(by_status.items())]
    return held, ", ".join(parts) or "no RSVPs"


def _burst_row(burst: dict, what: str, goal: str) -> str:
    held, statuses = _places(burst["stored"])
    gets = f" · GET failures {_counts(burst['get_failures'])}" if burst["get_failures"] else ""
    return (
        f"| {burst['people']} {what} | "
        f"answers {_counts(burst['answers'])} · resets {burst['resets']} · "
        f"timeouts {burst['timeouts']}{gets} · POST p50 {_ms(burst['post']['p50_ms'])} · "
        f"max {_ms(burst['post']['max_ms'])} · places held {held} ({statuses}) | | {goal} |"
    )


def markdown_table(result: dict) -> str:
    lines = [
        f"\n### {result['engine']}: gunicorn.conf.py, {result['workers']['vigil']} workers\n",
        "| | result | vs bare | goal |",
        "|---|---|---|---|",
    ]
    runs = result["wrk"]
    bare = runs["bare"]["requests_per_s"]
    for key, name, goal in (
        ("bare", "bare route (wrk -t2 -c32, median of the rounds)", "—"),
        ("event", "event page", "≥ 0.5"),
        ("volunteer", "volunteer page", "≥ 0.5"),
        ("home", "home page", "—"),
        ("feed_304", "feed, 304 (If-None-Match)", "≥ 0.8"),
    ):
        lines.append(_wrk_row(name, runs[key], bare, goal))

    crowd = result["crowd"]
    stored = crowd["stored"]
    stored_rsvps = sum(v["rsvps"] for v in stored["by_status"].values())
    lines.append(
        f"| 32 people GET + POST an RSVP, {crowd['seconds']:.0f} s | "
        f"{crowd['accepted_per_s']:.1f} accepted/s ({crowd['accepted']}) · "
        f"POST p50 {_ms(crowd['post']['p50_ms'])} · p99 {_ms(crowd['post']['p99_ms'])} · "
        f"errors {_counts(crowd['errors'])} · stored {stored_rsvps} RSVPs, "
        f"{stored['outbox_rows_all_events']} outbox rows | | "
        "≥ 100/s, p99 < 500 ms, no errors, all stored |"
    )
    probe = crowd["probe"]
    lines.append(
        "| event page meanwhile (probe every 100 ms) | "
        f"{probe['count']} answered · p50 {_ms(probe['p50_ms'])} · "
        f"p99 {_ms(probe['p99_ms'])} · failures {_counts(probe['failures'])} | | p99 < 300 ms |"
    )

    lines.append(
        _burst_row(
            result["burst"],
            "RSVPs in the same second, 50 places",
            "200 answers, no reset or timeout",
        )
    )
    lines.append(
        _burst_row(
            result["confirm"],
            "confirming in the same second",
            "200 answers, no reset or timeout, exactly 50 places",
        )
    )

    slow = result["slowloris"]
    probe = slow["probe"]
    lines.append(
        f"| event page during {slow['sockets']} slowloris connections, 10 s | "
        f"{probe['count']} answered · p50 {_ms(probe['p50_ms'])} · p99 {_ms(probe['p99_ms'])} "
        f"· max {_ms(probe['max_ms'])} · failures {_counts(probe['failures'])} · "
        f"slow connections still open {slow['still_open_at_end']} | | within 300 ms |"
    )
    rss = result["rss_mb"]
    lines.append(
        f"| worker RSS after the runs | Vigil {', '.join(f'{m:.0f}' for m in rss['vigil'])} MB · "
        f"bare {', '.join(f'{m:.0f}' for m in rss['bare'])} MB | | each < 120 MB |"
    )
    return "\n".join(lines)
