#!/usr/bin/env python3
"""Writes one fuzz run's figures into the results table of fuzz/README.md (between
its `results:begin` and `results:end` markers), one row per target; rows of
targets not run this time are kept.

usage: report.py README OUT_DIR TARGET...
"""

import datetime
import pathlib
import subprocess
import sys

BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"
HEADER = ("| target | executions | execs/s | run time | edges found | map coverage "
          "| corpus (minimised) | crashes | date, commit |\n"
          "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")


def stats(path):
    fields = {}
    for line in path.read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key.strip()] = value.strip()
    return fields


def row(target, out, here, commit, today):
    """One target's row; with several AFL++ instances on a target (-M/-S in one
    output directory) executions and crashes add up, run time and speed are the
    longest and combined, coverage is the best instance's."""
    runs = [stats(path) for path in sorted((out / target).glob("*/fuzzer_stats"))]
    execs = sum(int(s["execs_done"]) for s in runs)
    speed = sum(float(s["execs_per_sec"]) for s in runs)
    seconds = max(int(s["run_time"]) for s in runs)
    best = max(runs, key=lambda s: int(s["edges_found"]))
    crashes = sum(int(s["saved_crashes"]) for s in runs)
    corpus = len(list((here / "corpus" / target).glob("*")))
    instances = f" ({len(runs)} instances)" if len(runs) > 1 else ""
    return (f"| {target} | {execs:,}{instances} | {speed:,.0f} "
            f"| {seconds // 60} min {seconds % 60} s "
            f"| {best['edges_found']} of {best['total_edges']} | {best['bitmap_cvg']} "
            f"| {corpus} | {crashes} | {today}, {commit} |")


def main():
    readme, out, targets = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), sys.argv[3:]
    here = readme.parent
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=here,
                            capture_output=True, text=True, check=True).stdout.strip()
    today = datetime.date.today().isoformat()
    text = readme.read_text()
    head, rest = text.split(BEGIN, 1)
    table, tail = rest.split(END, 1)
    rows = {line.split("|")[1].strip(): line for line in table.splitlines()
            if line.startswith("| ") and not line.startswith("| target") and "---" not in line}
    for target in targets:
        rows[target] = row(target, out, here, commit, today)
    body = "\n".join(rows[name] for name in rows)
    readme.write_text(f"{head}{BEGIN}\n{HEADER}\n{body}\n{END}{tail}")
    for target in targets:
        print(rows[target])


if __name__ == "__main__":
    main()
