"""Capacity study report: figures (JSON) and a self-contained HTML page of plots.

Built from a finished run's :class:`~sim_worlds.simulator.SimResult` (one simulator's,
or per-corridor runs merged) and the independent trace check. The page embeds its
plots as PNG (matplotlib, Agg backend), so it opens offline from a file. The
*binding resource* is the one working closest to its capacity: the guide lanes
(crossings per hour against one vehicle per spacing at the lane speed), the handoff
zone (share of time a vehicle stands at the zero line), the yard cranes (busy share),
the loading bays (share of time every place of a bay is claimed, so no other vehicle
can be sent to it), or the vehicles (share of time neither idle nor queued for a
bay); when the cleared cargo left waiting is small, demand binds, not supply.
"""

from __future__ import annotations

import base64
import html
import io
import json
import statistics
from pathlib import Path
from typing import Any

from fleet.vehicles import GUIDE_VEHICLE
from sim_worlds.simulator import GOODS, SimResult
from sim_worlds.trace_checker import TraceReport

LANE_SPEED_MPS = 25.0 / 3.6
SPACING_M = GUIDE_VEHICLE.length_m + 8.0
LANE_PER_HOUR = 3600.0 / (SPACING_M / LANE_SPEED_MPS)  # one direction, free flow
TARGET_PER_DAY = {"huu-nghi": 3500.0, "tan-thanh": 2500.0}


# Vehicle time on an empty battery above which energy, whatever else, bounds the day.
EMPTY_BINDS = 0.01


def build_report(
    sim: SimResult,
    trace: TraceReport | None,
    wall_s: float,
    targets: dict[str, float] | None = None,
) -> dict[str, Any]:
    targets = {**TARGET_PER_DAY, **(targets or {})}
    summary = sim.summary()
    hours = max(1, int(-(-sim.t // 3600)))
    out: dict[str, Any] = {
        "sim_s": sim.t,
        "wall_s": wall_s,
        "real_time_factor": sim.t / wall_s if wall_s > 0 else None,
        "seed": sim.cfg.seed,
        "dt_s": sim.cfg.dt,
        "trace_check": None
        if trace is None
        else {
            "rows": trace.rows,
            "collisions": trace.collisions,
            "headway_violations": trace.headway_violations,
            "min_same_lane_gap_m": None if trace.min_gap_m == float("inf") else trace.min_gap_m,
            "first_violations": [v.__dict__ for v in trace.violations[:10]],
        },
        "corridors": {},
        "notes": [
            "crossings_per_day counts loaded crossings of the zero line, scaled to 24 h",
            f"lane capacity per direction: {LANE_PER_HOUR:.0f} vehicles/h "
            f"({SPACING_M} m spacing at {LANE_SPEED_MPS:.2f} m/s)",
            "the trace checker does not check junction headways (only bodies there)",
        ],
    }
    for corridor, c in summary["corridors"].items():
        per_hour = [0] * hours
        per_hour_loaded = [0] * hours
        dirs = {"export": 0, "import": 0}
        for t, vid, direction, loaded in sim.stats.crossings:
            if sim.vehicles[vid].corridor != corridor:
                continue
            h = min(hours - 1, int(t // 3600))
            per_hour[h] += 1
            per_hour_loaded[h] += int(loaded)
            dirs[direction] += 1
        waits: dict[str, list[float]] = {k: [] for k in GOODS}
        for con in sim.consignments:
            if con.corridor == corridor and con.crossed is not None:
                waits[con.kind].append(con.crossed - con.arrived)
        waiting_end = {
            side: sum(1 for x in q if x.cleared <= sim.t)
            for (cc, side), q in sim.waiting.items()
            if cc == corridor
        }
        dwell = [d for cc, d in sim.stats.zero_dwell if cc == corridor]
        vs = sorted(
            (v for v in sim.vehicles.values() if v.corridor == corridor), key=lambda v: v.id
        )
        util = {v.id: 1.0 - v.idle_s / max(sim.t, 1e-9) for v in vs}
        lane_use = max(dirs.values()) / max(sim.t / 3600.0, 1e-9) / LANE_PER_HOUR
        cranes = c["crane_busy_share"]
        resources = {
            "lane": lane_use,
            "handoff_zone": c["handoff_occupied_share"],
            "yard_cranes": max(cranes.values()) if cranes else 0.0,
            "loading_bays": max(c["bay_full_share"].values(), default=0.0),
            # time queued for a bay is the bays' limit, not the fleet's
            "vehicles": c["vehicle_working_share"] - c["vehicle_bay_wait_share"],
        }
        if c["battery_empty_share"] > 0.0:
            out["notes"].append(
                f"{corridor}: vehicles drove {c['battery_empty_share']:.0%} of their time on an "
                f"empty battery ({c['energy_kwh_per_vehicle_day']:.0f} kWh a vehicle a day): "
                "nothing charges them in this simulation yet, so the figures are an upper bound"
            )
        demand = c["consignments"]
        backlog = sum(waiting_end.values())
        if c["battery_empty_share"] > EMPTY_BINDS:
            binding = "energy"
            why = (
                f"vehicles drove {c['battery_empty_share']:.0%} of their time on an empty "
                "battery: the day needs more charging than the yards give"
            )
        elif demand and backlog <= 0.05 * demand:
            binding = "demand"
            why = f"only {backlog} cleared consignments left waiting of {demand}: supply keeps up"
        else:
            binding = max(resources, key=lambda k: resources[k])
            why = f"{binding} works at {resources[binding]:.0%}, the highest share"
        per_day = c["crossings_per_day"]
        out["corridors"][corridor] = {
            **c,
            "target_per_day": targets.get(corridor),
            "meets_target": per_day >= targets.get(corridor, 0.0),
            "crossings_per_hour": per_hour,
            "loaded_crossings_per_hour": per_hour_loaded,
            "crossings_by_direction": dirs,
            "waiting_at_end": waiting_end,
            "zero_line_dwell_s": _stats(dwell),
            "wait_by_goods_s": {k: _stats(v) for k, v in waits.items()},
            "vehicle_working_share_by_id": util,
            "resource_use": resources,
            "binding_resource": binding,
            "binding_why": why,
            "queue": [(t, side, n) for t, cc, side, n in sim.stats.queue if cc == corridor],
        }
    out["obstacle_stops"] = summary["obstacle_stops"]
    out["dispatch_errors"] = summary["dispatch_errors"]
    out["handoff_accept_retries"] = summary["handoff_accept_retries"]
    return out


def _stats(xs: list[float]) -> dict[str, float | int | None]:
    if not xs:
        return {"n": 0, "mean": None, "p95": None, "max": None}
    s = sorted(xs)
    return {
        "n": len(s),
        "mean": statistics.fmean(s),
        "p95": s[min(len(s) - 1, int(0.95 * len(s)))],
        "max": s[-1],
    }


def write_report(report: dict[str, Any], out_dir: Path) -> tuple[Path, Path]:
    """``report.json`` and ``report.html`` (plots embedded) in ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    js = out_dir / "report.json"
    js.write_text(json.dumps(report, indent=1, default=str))
    page = out_dir / "report.html"
    page.write_text(render_html(report))
    return js, page


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def render_html(report: dict[str, Any]) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>smartgate capacity study</title>",
        "<style>body{font-family:sans-serif;max-width:1100px;margin:auto}"
        "img{max-width:100%}td,th{padding:2px 8px;text-align:right}</style></head><body>",
        "<h1>smartgate capacity study</h1>",
        f"<p>{report['sim_s'] / 3600:.1f} simulated hours in {report['wall_s']:.1f} s wall "
        f"({(report['real_time_factor'] or 0):.0f}x real time), seed {report['seed']}.</p>",
    ]
    parts.append(
        "<ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in report.get("notes", [])) + "</ul>"
    )
    tc = report.get("trace_check")
    if tc is not None:
        parts.append(
            f"<p>Trace check (independent): {tc['collisions']} collisions, "
            f"{tc['headway_violations']} headway violations in {tc['rows']} rows.</p>"
        )
    for corridor, c in report["corridors"].items():
        parts.append(f"<h2>{html.escape(corridor)}</h2>")
        parts.append(
            f"<p>{c['loaded_crossings']} loaded crossings ({c['crossings']} with empty runs): "
            f"<b>{c['crossings_per_day']:.0f}/day</b> against a target of "
            f"{c['target_per_day']:.0f}/day with {c['vehicles']} vehicles. "
            f"Binding resource: <b>{html.escape(c['binding_resource'])}</b> "
            f"({html.escape(c['binding_why'])}). Energy: "
            f"{c['energy_kwh_per_vehicle_day']:.0f} kWh a vehicle a day, "
            f"{c['battery_empty_share']:.0%} of vehicle time on an empty battery.</p>"
        )
        fig, ax = plt.subplots(1, 2, figsize=(11, 3.2))
        hrs = list(range(len(c["crossings_per_hour"])))
        ax[0].bar(hrs, c["loaded_crossings_per_hour"], label="loaded")
        ax[0].plot(hrs, c["crossings_per_hour"], "k.-", label="all")
        if c["target_per_day"]:
            ax[0].axhline(c["target_per_day"] / 24, color="r", ls="--", label="target/24")
        ax[0].set_title("crossings per hour")
        ax[0].set_xlabel("hour")
        ax[0].legend()
        for side in ("VN", "CN"):
            q = [(t / 3600, n) for t, s, n in c["queue"] if s == side]
            if q:
                ax[1].plot([a for a, _ in q], [b for _, b in q], label=f"{side} yard")
        ax[1].set_title("cleared consignments waiting at the yard")
        ax[1].set_xlabel("hour")
        ax[1].legend()
        parts.append(f"<img src='data:image/png;base64,{_png(fig)}'>")
        fig, ax = plt.subplots(1, 3, figsize=(11, 3.2))
        ids = list(c["vehicle_working_share_by_id"])
        ax[0].bar(range(len(ids)), [c["vehicle_working_share_by_id"][i] for i in ids])
        ax[0].set_ylim(0, 1)
        ax[0].set_title("vehicle utilisation (not idle)")
        ax[0].set_xlabel("vehicle")
        d = c["zero_line_dwell_s"]
        ax[1].bar(["mean", "p95", "max"], [d["mean"] or 0, d["p95"] or 0, d["max"] or 0])
        ax[1].set_title(f"dwell at the zero line (s), n={d['n']}")
        kinds = list(c["wait_by_goods_s"])
        means = [(c["wait_by_goods_s"][k]["mean"] or 0) / 60 for k in kinds]
        p95 = [(c["wait_by_goods_s"][k]["p95"] or 0) / 60 for k in kinds]
        xs = range(len(kinds))
        ax[2].bar([x - 0.2 for x in xs], means, 0.4, label="mean")
        ax[2].bar([x + 0.2 for x in xs], p95, 0.4, label="p95")
        ax[2].set_xticks(list(xs), kinds, rotation=30)
        ax[2].set_title("truck arrival to crossing (min)")
        ax[2].legend()
        parts.append(f"<img src='data:image/png;base64,{_png(fig)}'>")
        rows = "".join(
            f"<tr><th>{html.escape(k)}</th><td>{v:.0%}</td></tr>"
            for k, v in c["resource_use"].items()
        )
        parts.append(f"<table><tr><th>resource</th><th>use</th></tr>{rows}</table>")
    parts.append("</body></html>")
    return "\n".join(parts)
