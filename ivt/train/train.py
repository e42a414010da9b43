#!/usr/bin/env python3
"""Trains the bidder's invalid-traffic model (model.json, tern-ivt-logistic/1)
from its own event files and a labels CSV.

    python3 ivt/train/train.py --events EVENTS [EVENTS ...] --labels labels.csv \\
        --out model.json [--features ua_missing,ip_datacenter,...] \\
        [--target-precision 0.95] [--c 1.0] [--test-size 0.25] [--seed 0]

EVENTS are event files (NDJSON, gzip or not: told apart by content) or
directories of them (read recursively, hidden files skipped), as the bidder's
file sink or Firehose writes them. Of `bid` and `nobid` lines carrying
`ivt_features`, the first seen per `request_id` (files in name order) is the
request's row. labels.csv is `request_id,label` with a header; label 1 =
invalid traffic, 0 = valid.

A scikit-learn LogisticRegression (no feature scaling: the bidder applies the
weights to the raw features) is fit on a stratified split; the threshold is
chosen on the held-out part, and its precision, recall and ROC AUC there are
printed. Every score and threshold is evaluated as the bidder computes it:
score = 1 / (1 + exp(-(bias + sum weights[i] * x[features[i]]))), in
thousandths rounded down, refused at and above the threshold's thousandths.

Exits 2 with a message on bad input: a missing path, no event files, no
labelled rows, one class only, an unknown feature.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import gzip
import json
import math
import os
import re
import sys

FORMAT = "tern-ivt-logistic/1"


def _bidder_features():
    """The bidder's feature catalogue, read from its one definition
    (`FEATURES` in ivt/src/model.rs): the order of the `ivt_features` array in
    events and the names model.json may use."""
    source = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "model.rs")
    with open(source, encoding="utf-8") as f:
        text = f.read()
    block = re.search(r"pub const FEATURES: \[&str; \d+\] = \[(.*?)\];", text, re.S)
    if block is None:
        raise SystemExit(f"no FEATURES array in {source}")
    return re.findall(r'"([a-z_]+)"', block.group(1))


FEATURES = _bidder_features()
DEFAULT_THRESHOLD = 0.5
# Weights and bias are written with this many decimals; the metrics use the
# rounded values, so they are what the bidder will do.
DECIMALS = 6


class InputError(Exception):
    """Bad input: reported as `train.py: error: ...`, exit status 2."""


def event_files(paths: list[str]) -> list[str]:
    """Every file named, and every non-hidden file under each directory named,
    each group in name order."""
    files: list[str] = []
    for path in paths:
        if os.path.isfile(path):
            files.append(path)
        elif os.path.isdir(path):
            found = []
            for root, dirs, names in os.walk(path):
                dirs[:] = [d for d in dirs if not d.startswith(".")]
                found += [os.path.join(root, n) for n in names if not n.startswith(".")]
            if not found:
                raise InputError(f"no event files in directory {path}")
            files += sorted(found)
        else:
            raise InputError(f"events path not found: {path}")
    return files


def open_text(path: str):
    with open(path, "rb") as f:
        magic = f.read(2)
    if magic == b"\x1f\x8b":
        return gzip.open(path, "rt", encoding="utf-8")
    return open(path, "r", encoding="utf-8")


def read_requests(files: list[str]) -> tuple[dict[str, list[float]], dict[str, int]]:
    """request_id -> ivt_features of its first `bid`/`nobid` line, and counts of
    what was read and skipped."""
    rows: dict[str, list[float]] = {}
    counts = {"lines": 0, "malformed": 0, "other_types": 0, "without_features": 0, "repeats": 0}
    for path in files:
        try:
            with open_text(path) as f:
                for text in f:
                    if not text.strip():
                        continue
                    counts["lines"] += 1
                    try:
                        event = json.loads(text)
                    except ValueError:
                        # A torn last line of a file still being written, say.
                        counts["malformed"] += 1
                        continue
                    if not isinstance(event, dict) or event.get("type") not in ("bid", "nobid"):
                        counts["other_types"] += 1
                        continue
                    request_id = event.get("request_id")
                    features = event.get("ivt_features")
                    if (
                        not isinstance(request_id, str)
                        or not isinstance(features, list)
                        or len(features) != len(FEATURES)
                        or not all(isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) for x in features)
                    ):
                        # Written by a bidder without screening, or damaged.
                        counts["without_features"] += 1
                        continue
                    if request_id in rows:
                        counts["repeats"] += 1  # another impression's bid, say
                        continue
                    rows[request_id] = [float(x) for x in features]
        except (OSError, EOFError, UnicodeDecodeError, gzip.BadGzipFile) as e:
            raise InputError(f"cannot read events file {path}: {e}") from e
    return rows, counts


def read_labels(path: str) -> dict[str, int]:
    if not os.path.isfile(path):
        raise InputError(f"labels file not found: {path}")
    labels: dict[str, int] = {}
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header is None or [h.strip() for h in header[:2]] != ["request_id", "label"]:
            raise InputError(f"{path}: the first line must be the header `request_id,label`")
        for line_no, record in enumerate(reader, start=2):
            if not record or all(not cell.strip() for cell in record):
                continue
            if len(record) < 2:
                raise InputError(f"{path}:{line_no}: expected request_id,label")
            request_id, label = record[0].strip(), record[1].strip()
            if label not in ("0", "1"):
                raise InputError(f"{path}:{line_no}: label must be 0 (valid) or 1 (invalid), not {label!r}")
            if not request_id:
                raise InputError(f"{path}:{line_no}: empty request_id")
            if labels.get(request_id, int(label)) != int(label):
                raise InputError(f"{path}:{line_no}: request {request_id} is labelled both 0 and 1")
            labels[request_id] = int(label)
    if not labels:
        raise InputError(f"{path}: no labels")
    return labels


def parse_features(text: str | None) -> list[str]:
    if text is None:
        return list(FEATURES)
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise InputError("--features names no feature")
    for name in names:
        if name not in FEATURES:
            raise InputError(f"unknown feature {name!r} (known: {', '.join(FEATURES)})")
    if len(set(names)) != len(names):
        raise InputError("--features lists a feature twice")
    return names


def scores_per_mille(np, x, bias: float, weights: list[float]):
    """The bidder's score in thousandths, rounded down (ivt/src/model.rs)."""
    z = bias + x @ np.asarray(weights, dtype=float)
    with np.errstate(over="ignore"):
        score = 1.0 / (1.0 + np.exp(-z))
    return np.clip(np.floor(score * 1000.0), 0, 1000).astype(int)


def at_threshold(np, scores, y, threshold_per_mille: int) -> tuple[float, float, int]:
    """(precision, recall, refused) when requests scoring at or above the
    threshold are refused; precision is 0 when nothing is refused."""
    refused = scores >= threshold_per_mille
    true_positives = int(np.sum(refused & (y == 1)))
    n_refused = int(np.sum(refused))
    positives = int(np.sum(y == 1))
    precision = true_positives / n_refused if n_refused else 0.0
    recall = true_positives / positives if positives else 0.0
    return precision, recall, n_refused


def choose_threshold(np, scores, y, target_precision: float | None) -> int:
    """The threshold in thousandths: the lowest reaching target_precision on the
    held-out rows, or the default."""
    if target_precision is None:
        return round(DEFAULT_THRESHOLD * 1000)
    best = (0.0, None)
    for k in range(1, 1001):
        precision, _, refused = at_threshold(np, scores, y, k)
        if refused == 0:
            break
        if precision >= target_precision:
            return k
        best = max(best, (precision, k), key=lambda p: p[0])
    detail = f" (best: {best[0]:.3f} at {best[1] / 1000:.3f})" if best[1] else ""
    raise InputError(
        f"no threshold reaches precision {target_precision} on the held-out split{detail}: "
        "lower --target-precision, add labelled rows or features"
    )


def model_json(model: dict) -> str:
    """One key per line, lists on one line: reviewable in a diff."""
    lines = [f"  {json.dumps(k)}: {json.dumps(v)}" for k, v in model.items()]
    return "{\n" + ",\n".join(lines) + "\n}\n"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="train.py",
        description="Trains model.json (tern-ivt-logistic/1) from bidder events and labels.",
    )
    parser.add_argument("--events", nargs="+", required=True, metavar="PATH", help="event files (.ndjson, .gz) or directories of them")
    parser.add_argument("--labels", required=True, help="CSV request_id,label (1 invalid, 0 valid), with a header")
    parser.add_argument("--out", required=True, help="model.json to write")
    parser.add_argument("--features", help=f"comma-separated features to use, in this order (default: all: {','.join(FEATURES)})")
    parser.add_argument("--target-precision", type=float, help="choose the lowest threshold whose held-out precision reaches this (default: threshold 0.5)")
    parser.add_argument("--c", type=float, default=1.0, help="inverse L2 regularisation strength (default 1.0)")
    parser.add_argument("--test-size", type=float, default=0.25, help="held-out share (default 0.25)")
    parser.add_argument("--seed", type=int, default=0, help="random state of the split (default 0)")
    parser.add_argument("--trained-at", help="trained_at to write (default: now, UTC)")
    parser.add_argument("--description", help="text put before the description's account of the data and held-out metrics")
    args = parser.parse_args(argv)

    try:
        if args.target_precision is not None and not 0.0 < args.target_precision <= 1.0:
            raise InputError("--target-precision must be in (0, 1]")
        if not 0.05 <= args.test_size <= 0.5:
            raise InputError("--test-size must be between 0.05 and 0.5")
        if not (args.c > 0 and math.isfinite(args.c)):
            raise InputError("--c must be a positive number")
        names = parse_features(args.features)
        labels = read_labels(args.labels)
        files = event_files(args.events)
        requests, counts = read_requests(files)
        if not requests:
            raise InputError(f"no bid or nobid events with ivt_features in {len(files)} file(s)")
        ids = [r for r in requests if r in labels]
        if not ids:
            raise InputError(
                f"no labelled rows: none of the {len(labels)} labels names one of the "
                f"{len(requests)} requests in the events"
            )
        invalid = sum(labels[r] for r in ids)
        if invalid == 0 or invalid == len(ids):
            raise InputError(f"all {len(ids)} labelled rows are label {labels[ids[0]]}: both classes are needed")
        if min(invalid, len(ids) - invalid) < 4:
            raise InputError(f"{len(ids)} labelled rows with {invalid} invalid: at least 4 of each class are needed to hold some out")
        trained_at = args.trained_at or datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    except InputError as e:
        print(f"train.py: error: {e}", file=sys.stderr)
        return 2

    # Imported only now: bad input is refused without waiting for scikit-learn.
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import train_test_split

    columns = [FEATURES.index(n) for n in names]
    x = np.asarray([requests[r] for r in ids], dtype=float)[:, columns]
    y = np.asarray([labels[r] for r in ids], dtype=int)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=args.test_size, stratify=y, random_state=args.seed
    )
    fit = LogisticRegression(C=args.c, solver="lbfgs", max_iter=5000, tol=1e-8)
    fit.fit(x_train, y_train)
    bias = round(float(fit.intercept_[0]), DECIMALS)
    weights = [round(float(w), DECIMALS) for w in fit.coef_[0]]

    held_out = scores_per_mille(np, x_test, bias, weights)
    try:
        threshold_pm = choose_threshold(np, held_out, y_test, args.target_precision)
    except InputError as e:
        print(f"train.py: error: {e}", file=sys.stderr)
        return 2
    precision, recall, refused = at_threshold(np, held_out, y_test, threshold_pm)
    auc = roc_auc_score(y_test, held_out)
    threshold = threshold_pm / 1000

    print(
        f"events: {len(files)} file(s), {counts['lines']} lines, {len(requests)} requests "
        f"({counts['malformed']} malformed lines, {counts['without_features']} bid/nobid lines without "
        f"ivt_features, {counts['repeats']} repeats)",
    )
    print(
        f"labels: {len(labels)}, joined {len(ids)} ({invalid} invalid, {len(ids) - invalid} valid); "
        f"{len(requests) - len(ids)} requests unlabelled, {len(labels) - len(ids)} labels without events"
    )
    print(f"trained on {len(y_train)}, held out {len(y_test)} ({int(y_test.sum())} invalid)")
    for name, weight in zip(names, weights):
        print(f"  {name:<20} {weight:+.4f}")
    print(f"  {'(bias)':<20} {bias:+.4f}")
    how = f"lowest reaching precision {args.target_precision}" if args.target_precision is not None else "default"
    print(
        f"held out: AUC {auc:.4f}; at threshold {threshold:.3f} ({how}): precision {precision:.4f}, "
        f"recall {recall:.4f}, {refused} of {len(y_test)} refused"
    )

    description = (
        f"Logistic regression on {len(ids)} labelled requests ({invalid} invalid); held out "
        f"{len(y_test)}: AUC {auc:.3f}, precision {precision:.3f}, recall {recall:.3f} at the threshold "
        f"({how}). ivt/train/train.py, C={args.c}, seed {args.seed}."
    )
    if args.description:
        description = f"{args.description.strip()} {description}"
    model = {
        "format": FORMAT,
        "trained_at": trained_at,
        "description": description,
        "features": names,
        "bias": bias,
        "weights": weights,
        "threshold": threshold,
    }
    out_dir = os.path.dirname(os.path.abspath(args.out))
    os.makedirs(out_dir, exist_ok=True)
    # Written beside it under a hidden name (which the bidder's lists reader
    # skips), then renamed: a bidder polling the directory never reads half a file.
    tmp = os.path.join(out_dir, f".{os.path.basename(args.out)}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(model_json(model))
    os.replace(tmp, args.out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
