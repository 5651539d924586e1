"""An independent computation of the lake's F1 tables, straight from the F1DB YAML, compared
with what Pitwall wrote, read back through the Python `deltalake` package.

It shares no code with the Rust side: the YAML is read with PyYAML, the features are computed
row by row in plain Python (exact medians with `statistics.median`), and the Delta tables are
read with delta-rs's Python binding. Run:

    python f1db_reference.py LAKE_ROOT F1DB_DIR [--dtrefs 1950-05-13,2025-12-07] [--abt]

Prints one line per mismatch and a closing `N passed, M failed`; exits 1 on any mismatch.
"""

import argparse
import glob
import math
import os
import statistics
import sys
from collections import defaultdict

import yaml
from deltalake import DeltaTable

DROPPED = {"DNQ", "DNPQ", "EX", "DNP"}
SESSION_FILES = {"Race": "race-results.yml", "Qualifying": "qualifying-results.yml",
                 "Sprint": "sprint-race-results.yml"}
STATS = ["avgGridPosition", "medianGridPosition", "avgPosition", "medianPosition",
         "totalPositionLift", "avgPositionLift", "medianPositionLift", "pctPolePositition",
         "pctPolewin"]
WINDOWS = ["RaceFirst05", "RaceFirst10", "RaceLast10", "RaceLast20", "RaceLast40"]
FS_TYPES = (
    [("idDriver", "string"), ("dtRef", "string"), ("dtLastSeen", "date32[day]"),
     ("dtFirstSeen", "date32[day]"), ("dtIntervalMaxMin", "int32"), ("qtRaces", "int64"),
     ("qtTeams", "int64"), ("idTeam", "string"), ("qtLastSeenRace", "int32")]
    + [(s, "double") for s in STATS]
    + [("qtdPolePositition", "int64"), ("qtdPolewin", "int64")]
    + [(s + w, "double") for w in WINDOWS for s in STATS]
)


def load(f1db, seasons=None):
    """Race rows (dict per row) and every (driver, season) with a result of any session."""
    rows, active, race_dates = [], set(), []
    for race_dir in sorted(glob.glob(os.path.join(f1db, "seasons", "*", "races", "*"))):
        season = int(race_dir.split(os.sep)[-3])
        if seasons and season not in seasons:
            continue
        race_yml = os.path.join(race_dir, "race.yml")
        if not os.path.exists(os.path.join(race_dir, "race-results.yml")):
            continue
        with open(race_yml) as fh:
            date = yaml.load(fh, Loader=yaml.CBaseLoader)["date"]
        race_dates.append(date)
        for session, name in SESSION_FILES.items():
            path = os.path.join(race_dir, name)
            if not os.path.exists(path):
                continue
            with open(path) as fh:
                results = yaml.load(fh, Loader=yaml.CBaseLoader) or []
            # A session's place counts only the rows kept: a driver who did not take part
            # does not push those after him down the order.
            kept = [r for r in results if not (session == "Race" and r["position"] in DROPPED)]
            for i, r in enumerate(kept, start=1):
                active.add((r["driverId"], season))
                if session != "Race":
                    continue
                g = r.get("gridPosition", "")
                grid_raw = int(g) if g.isdigit() else 0
                rows.append({"driver": r["driverId"], "team": r["constructorId"], "date": date,
                             "pos": i, "grid_raw": grid_raw})
    return rows, active, sorted(race_dates)


def window_stats(rs):
    grid = [r["grid_raw"] if r["grid_raw"] else r["pos"] for r in rs]
    pos = [r["pos"] for r in rs]
    lift = [g - p for g, p in zip(grid, pos)]
    pole = [1 if r["grid_raw"] == 1 else 0 for r in rs]
    polewin = [1 if r["grid_raw"] == 1 and r["pos"] == 1 else 0 for r in rs]
    n = len(rs)
    return {"avgGridPosition": sum(grid) / n, "medianGridPosition": statistics.median(grid),
            "avgPosition": sum(pos) / n, "medianPosition": statistics.median(pos),
            "totalPositionLift": float(sum(lift)), "avgPositionLift": sum(lift) / n,
            "medianPositionLift": statistics.median(lift), "pctPolePositition": sum(pole) / n,
            "pctPolewin": sum(polewin) / n}, sum(pole), sum(polewin)


def features(rows, race_dates, dtref):
    by_driver = defaultdict(list)
    for r in rows:
        if r["date"] <= dtref:
            by_driver[r["driver"]].append(r)
    out = {}
    for driver, rs in by_driver.items():
        rs.sort(key=lambda r: (r["date"], r["pos"]))
        last, first = rs[-1]["date"], rs[0]["date"]
        from datetime import date as d
        f = {"dtLastSeen": last, "dtFirstSeen": first,
             "dtIntervalMaxMin": (d.fromisoformat(last) - d.fromisoformat(first)).days,
             "qtRaces": len({r["date"] for r in rs}), "qtTeams": len({r["team"] for r in rs}),
             "idTeam": min(r["team"] for r in rs if r["date"] == last),
             "qtLastSeenRace": sum(1 for x in race_dates if last < x <= dtref)}
        career, poles, polewins = window_stats(rs)
        f.update(career)
        f["qtdPolePositition"], f["qtdPolewin"] = poles, polewins
        for w, sub in zip(WINDOWS, [rs[:5], rs[:10], rs[-10:], rs[-20:], rs[-40:]]):
            for k, v in window_stats(sub)[0].items():
                f[k + w] = v
        out[driver] = f
    return out


def same(a, b):
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    return str(a) == str(b)


def check_fs(lake, rows, race_dates, dtrefs, report):
    table = DeltaTable(os.path.join(lake, "silver", "f1", "fs_drivers"))
    data = table.to_pyarrow_table(filters=[("dtRef", "in", dtrefs)])
    got_types = [(f.name, str(f.type)) for f in data.schema]
    report(got_types == FS_TYPES, f"fs_drivers schema {got_types} != contract")
    data = data.to_pylist()
    by_ref = defaultdict(dict)
    for r in data:
        by_ref[r["dtRef"]][r["idDriver"]] = r
    for dtref in dtrefs:
        report(dtref in race_dates, f"{dtref} is not a race date")
        expected = features(rows, race_dates, dtref)
        got = by_ref.get(dtref, {})
        report(set(got) == set(expected),
               f"{dtref}: drivers differ: extra {sorted(set(got) - set(expected))[:5]}, "
               f"missing {sorted(set(expected) - set(got))[:5]}")
        for driver, exp in expected.items():
            row = got.get(driver)
            if row is None:
                continue
            for k, v in exp.items():
                report(same(row[k], v), f"{dtref} {driver} {k}: lake {row[k]!r}, expected {v!r}")


def check_abt(lake, rows, active, race_dates, report):
    abt = DeltaTable(os.path.join(lake, "analytics", "f1", "abt_churn")).to_pyarrow_table()
    types = [(f.name, str(f.type)) for f in abt.schema]
    report(types == FS_TYPES + [("flChurn", "int32")], f"abt_churn schema {types}")
    latest = max(s for _, s in active)
    first_race = {}
    for x in race_dates:
        first_race.setdefault(int(x[:4]), x)
    expected = {}
    refs = [x for x in race_dates if x > "2000-01-01" and int(x[:4]) < latest]
    for dtref in refs:
        for driver, f in features(rows, race_dates, dtref).items():
            if (f["qtLastSeenRace"] <= 2 and f["dtFirstSeen"] >= "1991-01-01" and f["qtRaces"] > 2
                    and not (f["qtLastSeenRace"] == 1 and first_race[int(dtref[:4])] == dtref)):
                expected[(driver, dtref)] = 0 if (driver, int(dtref[:4]) + 1) in active else 1
    got = {(r["idDriver"], r["dtRef"]): r["flChurn"] for r in abt.select(
        ["idDriver", "dtRef", "flChurn"]).to_pylist()}
    report(set(got) == set(expected),
           f"abt rows differ: extra {sorted(set(got) - set(expected))[:5]}, "
           f"missing {sorted(set(expected) - set(got))[:5]}")
    for key, label in expected.items():
        if key in got:
            report(got[key] == label, f"abt {key}: flChurn {got[key]}, expected {label}")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("lake")
    p.add_argument("f1db")
    p.add_argument("--dtrefs", default="")
    p.add_argument("--abt", action="store_true")
    args = p.parse_args()
    rows, active, race_dates = load(args.f1db)
    counts = {"passed": 0, "failed": 0}

    def report(ok, message):
        if ok:
            counts["passed"] += 1
        else:
            counts["failed"] += 1
            if counts["failed"] <= 50:
                print("MISMATCH", message)

    dtrefs = [d for d in args.dtrefs.split(",") if d]
    if dtrefs:
        check_fs(args.lake, rows, race_dates, dtrefs, report)
    if args.abt:
        check_abt(args.lake, rows, active, race_dates, report)
    print(f"{counts['passed']} passed, {counts['failed']} failed")
    sys.exit(1 if counts["failed"] else 0)


if __name__ == "__main__":
    main()
