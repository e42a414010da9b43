#!/usr/bin/env python3
"""Checks of the IVT model recipe, run by check.sh.

    check_model.py same TRAINED BUNDLED
        the two model.json files hold the same model: format, features and
        threshold equal (the threshold within 0.002), bias and weights within
        0.001 (trained_at and description are not compared)
    check_model.py auc MODEL --events PATH [PATH ...] --labels labels.csv --min 0.9
        MODEL's scores (as the bidder computes them) separate the labelled
        requests with a ROC AUC above --min

Exits 1 with a message when a check fails.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys

# train.py beside this file, without leaving a __pycache__ in the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train  # noqa: E402

WEIGHT_TOLERANCE = 1e-3
THRESHOLD_TOLERANCE = 0.002


def load(path: str) -> dict:
    with open(path, encoding="utf-8") as f:
        model = json.load(f)
    for key in ("format", "features", "bias", "weights", "threshold"):
        if key not in model:
            raise SystemExit(f"check_model: {path} has no `{key}`")
    return model


def same(trained_path: str, bundled_path: str) -> int:
    trained, bundled = load(trained_path), load(bundled_path)
    problems = []
    for key in ("format", "features"):
        if trained[key] != bundled[key]:
            problems.append(f"{key}: {trained[key]!r} != {bundled[key]!r}")
    if abs(trained["threshold"] - bundled["threshold"]) > THRESHOLD_TOLERANCE:
        problems.append(f"threshold: {trained['threshold']} != {bundled['threshold']}")
    if abs(trained["bias"] - bundled["bias"]) > WEIGHT_TOLERANCE:
        problems.append(f"bias: {trained['bias']} != {bundled['bias']}")
    if len(trained["weights"]) != len(bundled["weights"]):
        problems.append("weights: different lengths")
    else:
        for name, a, b in zip(trained["features"], trained["weights"], bundled["weights"]):
            if abs(a - b) > WEIGHT_TOLERANCE:
                problems.append(f"weight of {name}: {a} != {b}")
    if problems:
        print(f"check_model: {trained_path} is not the bundled model {bundled_path}:", file=sys.stderr)
        for p in problems:
            print(f"  {p}", file=sys.stderr)
        print("  (retrain the bundled model with the command in ivt/train/check.sh)", file=sys.stderr)
        return 1
    print(f"same model as {bundled_path} (weights within {WEIGHT_TOLERANCE}, threshold within {THRESHOLD_TOLERANCE})")
    return 0


def auc(model_path: str, events: list[str], labels_path: str, minimum: float) -> int:
    import numpy as np
    from sklearn.metrics import roc_auc_score

    model = load(model_path)
    labels = train.read_labels(labels_path)
    requests, _ = train.read_requests(train.event_files(events))
    ids = [r for r in requests if r in labels]
    columns = [train.FEATURES.index(n) for n in model["features"]]
    x = np.asarray([requests[r] for r in ids], dtype=float)[:, columns]
    y = np.asarray([labels[r] for r in ids], dtype=int)
    scores = train.scores_per_mille(np, x, model["bias"], model["weights"])
    value = roc_auc_score(y, scores)
    threshold = math.floor(model["threshold"] * 1000)
    precision, recall, refused = train.at_threshold(np, scores, y, threshold)
    print(
        f"{model_path} on {len(ids)} labelled requests: AUC {value:.4f}; at its threshold "
        f"{model['threshold']}: precision {precision:.4f}, recall {recall:.4f}, {refused} refused"
    )
    if not value > minimum:
        print(f"check_model: AUC {value:.4f} is not above {minimum}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="check_model.py")
    sub = parser.add_subparsers(dest="command", required=True)
    p_same = sub.add_parser("same", help="two model.json files hold the same model")
    p_same.add_argument("trained")
    p_same.add_argument("bundled")
    p_auc = sub.add_parser("auc", help="a model separates labelled requests")
    p_auc.add_argument("model")
    p_auc.add_argument("--events", nargs="+", required=True)
    p_auc.add_argument("--labels", required=True)
    p_auc.add_argument("--min", type=float, default=0.9)
    args = parser.parse_args(argv)
    if args.command == "same":
        return same(args.trained, args.bundled)
    try:
        return auc(args.model, args.events, args.labels, args.min)
    except train.InputError as e:
        print(f"check_model: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
