#!/usr/bin/env python3
"""Writes a small synthetic training set for the IVT model recipe (train.py).

    python3 ivt/train/make_example.py [--out ivt/train/example] [--requests 2000]

What it writes, always the same bytes for the same arguments (a fixed seed, no
clock, gzip without a timestamp):

    <out>/events/events-<unix ms>-<instance>.ndjson.gz   bidder event files
    <out>/labels.csv                                      request_id,label

The events are in the bidder's format (docs/events.md, schema 1): per request one
`bid` line per impression bid on or one `nobid` line, then `win` and `imp`
notices for some bids (which train.py ignores). `bid` and `nobid` lines carry
`ivt_score` (what the model the bidder ran then, the old bundled placeholder,
gave: score x 1000, rounded down) and `ivt_features` (the 13 features in the
bidder's catalogue order). Invalid traffic is drawn from four made-up kinds
(declared crawlers, data-centre traffic behind browser user agents, app fraud,
headless clients without a user agent), valid traffic from ordinary browsers and
apps, with some overlap so the model has something to learn; 2% of the labels
are flipped (a vendor's report is not perfect). About 2% of the requests have no
label, and a few labels name requests without events (sampled-out no-bids).

Only the standard library: runs without the training venv.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import math
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train import FEATURES  # noqa: E402  the bidder's catalogue, in order

SEED = 20261201
START_MS = 1796083200000  # 2026-12-01T00:00:00Z
INSTANCES = ["ip-10-40-1-23", "ip-10-40-2-41"]
EXCHANGES = ["adx", "magnite", "pubmatic", "xandr"]
COUNTRIES = ["USA", "USA", "USA", "GBR", "DEU", "FRA", "BRA", "CAN"]
CAMPAIGNS = [
    ("display-na", "display-na-300x250"),
    ("puzzle-app-install", "tiles-300x250"),
    ("video-brand", "brand-30s"),
]
NOBID_REASONS = ["no_match", "no_match", "no_match", "below_floor", "frequency_cap", "paced"]
TMAX_S = [0.1, 0.12, 0.15, 0.2, 0.25, 0.3]


class Draw:
    """Draws from one seeded generator using only `random()`, whose sequence
    Python keeps stable across versions."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def p(self, probability: float) -> bool:
        return self.rng.random() < probability

    def flag(self, probability: float) -> float:
        return 1.0 if self.p(probability) else 0.0

    def pick(self, items: list):
        return items[min(int(self.rng.random() * len(items)), len(items) - 1)]

    def weighted(self, pairs: list[tuple[float, object]]):
        x = self.rng.random() * sum(w for w, _ in pairs)
        for weight, item in pairs:
            x -= weight
            if x < 0:
                return item
        return pairs[-1][1]

    def between(self, low: int, high: int) -> int:
        return low + min(int(self.rng.random() * (high - low + 1)), high - low)


def valid_request(d: Draw) -> list[float]:
    """An ordinary browser or app user."""
    app = d.p(0.35)
    lmt = d.flag(0.10)
    ua_missing = d.flag(0.03 if app else 0.005)
    ip_missing = d.flag(0.02)
    return [
        ua_missing,
        0.0 if ua_missing else d.flag(0.002),
        ip_missing,
        0.0 if ip_missing else d.flag(0.015),  # VPNs, corporate proxies
        (1.0 if lmt or d.p(0.08) else 0.0) if app else 0.0,
        d.flag(0.22),
        1.0 if app else 0.0,
        *schain(d, missing=0.20, resold=0.10),
        d.flag(0.02),
        lmt,
        imp_count(d),
        0.0 if d.p(0.04) else d.pick(TMAX_S),
    ]


def invalid_request(d: Draw) -> list[float]:
    """One of four made-up kinds of invalid traffic."""
    kind = d.weighted([(25, "crawler"), (35, "datacenter"), (25, "app_fraud"), (15, "headless")])
    app = kind == "app_fraud" or (kind != "crawler" and d.p(0.10))
    if kind == "crawler":
        ua_missing, ua_bot, ip_missing, dc, uid = 0.0, d.flag(0.85), 0.0, d.flag(0.60), d.flag(0.90)
        chain = schain(d, missing=0.30, resold=0.20)
        unauthorized = d.flag(0.05)
    elif kind == "datacenter":
        ua_missing, ua_bot, ip_missing, dc, uid = d.flag(0.05), d.flag(0.05), 0.0, d.flag(0.90), d.flag(0.65)
        chain = schain(d, missing=0.40, resold=0.40)
        unauthorized = d.flag(0.15)
    elif kind == "app_fraud":
        ua_missing, ua_bot, ip_missing, dc, uid = d.flag(0.10), 0.0, d.flag(0.05), d.flag(0.35), d.flag(0.55)
        chain = schain(d, missing=0.45, resold=0.60)
        unauthorized = d.flag(0.30)
    else:  # headless
        ua_missing = d.flag(0.70)
        ua_bot = 0.0 if ua_missing else d.flag(0.30)
        ip_missing = d.flag(0.30)
        dc = 0.0 if ip_missing else d.flag(0.50)
        uid = d.flag(0.90)
        chain = schain(d, missing=0.50, resold=0.30)
        unauthorized = d.flag(0.10)
    lmt = d.flag(0.05)
    return [
        ua_missing,
        ua_bot,
        ip_missing,
        dc,
        (1.0 if lmt or d.p(0.60) else 0.0) if app else 0.0,
        uid,
        1.0 if app else 0.0,
        *chain,
        unauthorized,
        lmt,
        imp_count(d),
        0.0 if d.p(0.20) else d.pick(TMAX_S),
    ]


def imp_count(d: Draw) -> float:
    """Impressions per request: the same for valid and invalid traffic (a count
    that says nothing about validity, so the model learns to ignore it)."""
    return float(d.weighted([(80, 1), (12, 2), (5, 3), (3, 4)]))


def schain(d: Draw, missing: float, resold: float) -> tuple[float, float]:
    """(schain_missing, schain_nodes): direct sales have one node, resold ones more."""
    if d.p(missing):
        return 1.0, 0.0
    nodes = d.between(2, 4) if d.p(resold) else 1
    return 0.0, float(nodes)


def old_score_per_mille(features: list[float]) -> int:
    """The score the bidder logged: the placeholder model bundled before the
    first trained one (ua_missing only, bias -4, weight 2)."""
    z = -4.0 + 2.0 * features[0]
    return math.floor(1000.0 / (1.0 + math.exp(-z)))


def line(fields: dict) -> str:
    return json.dumps(fields, separators=(",", ":")) + "\n"


def generate(requests: int) -> tuple[dict[str, list[str]], list[str]]:
    d = Draw(SEED)
    files: dict[str, list[str]] = {instance: [] for instance in INSTANCES}
    labels: list[str] = []
    ts = START_MS
    for n in range(requests):
        request_id = f"req-{n + 1:05d}"
        invalid = d.p(0.20)
        features = invalid_request(d) if invalid else valid_request(d)
        ts += d.between(5, 400)
        instance = d.pick(INSTANCES)
        app = features[6] == 1.0
        common = {
            "exchange": d.pick(EXCHANGES),
            "publisher_id": f"pub-{d.between(1000, 1060)}",
            "country": d.pick(COUNTRIES),
            "device_type": d.pick([1, 3, 4]) if app else d.pick([2, 4]),
        }
        core = d.between(0, 7)
        latency_us = d.between(5, 60)
        score = old_score_per_mille(features)
        # The bidder refuses listed bots and data-centre addresses by default, so
        # most of those requests end as no-bids; others bid about half the time.
        refused = (features[1] == 1.0 and d.p(0.9)) or (features[3] == 1.0 and d.p(0.8))
        imps = int(features[11])
        bid_imps = [] if refused or d.p(0.5) else [i + 1 for i in range(imps) if i == 0 or d.p(0.5)]
        out = files[instance]
        if not bid_imps:
            reason = (
                ("bot" if features[1] == 1.0 else "datacenter") if refused else d.pick(NOBID_REASONS)
            )
            out.append(
                line(
                    {
                        "v": 1,
                        "type": "nobid",
                        "ts_ms": ts,
                        "request_id": request_id,
                        **common,
                        "nobid_reason": reason,
                        "instance": instance,
                        "core": core,
                        "latency_us": latency_us,
                        "ivt_score": score,
                        "ivt_features": features,
                    }
                )
            )
        for imp in bid_imps:
            campaign, creative = d.pick(CAMPAIGNS)
            price = d.between(8, 60) * 100_000
            out.append(
                line(
                    {
                        "v": 1,
                        "type": "bid",
                        "ts_ms": ts,
                        "request_id": request_id,
                        "imp_id": str(imp),
                        "campaign_id": campaign,
                        "creative_id": creative,
                        "bid_price_micros": price,
                        "currency": "USD",
                        **common,
                        "instance": instance,
                        "core": core,
                        "latency_us": latency_us,
                        "auction_type": 1,
                        "ivt_score": score,
                        "ivt_features": features,
                    }
                )
            )
            if d.p(0.25):
                for kind, delay in (("win", 40), ("imp", 900)):
                    out.append(
                        line(
                            {
                                "v": 1,
                                "type": kind,
                                "ts_ms": ts + delay,
                                "request_id": request_id,
                                "imp_id": str(imp),
                                "campaign_id": campaign,
                                "creative_id": creative,
                                "bid_price_micros": price,
                                "win_price_micros": price - 100_000,
                                "win_price_source": "exchange",
                                "currency": "USD",
                                "instance": instance,
                                "core": core,
                            }
                        )
                    )
        if d.p(0.02):
            continue  # not in the vendor's report: no label
        label = (not invalid) if d.p(0.02) else invalid
        labels.append(f"{request_id},{1 if label else 0}\n")
    # Labels for requests whose no-bids were sampled out: no events to join.
    for n in range(requests, requests + 12):
        labels.append(f"req-{n + 1:05d},{1 if d.p(0.5) else 0}\n")
    return files, labels


def write_gzip(path: str, text: str) -> None:
    """gzip with no name and no timestamp in the header: the same bytes each run
    (for a given zlib)."""
    raw = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz:
        gz.write(text.encode())
    with open(path, "wb") as f:
        f.write(raw.getvalue())


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    here = os.path.dirname(os.path.abspath(__file__))
    parser.add_argument("--out", default=os.path.join(here, "example"), help="output directory (default: ivt/train/example)")
    parser.add_argument("--requests", type=int, default=2000, help="number of bid requests (default 2000)")
    args = parser.parse_args(argv)
    if args.requests < 10:
        parser.error("--requests must be at least 10")
    files, labels = generate(args.requests)
    events_dir = os.path.join(args.out, "events")
    os.makedirs(events_dir, exist_ok=True)
    for instance, lines in files.items():
        write_gzip(os.path.join(events_dir, f"events-{START_MS}-{instance}.ndjson.gz"), "".join(lines))
    with open(os.path.join(args.out, "labels.csv"), "w", newline="") as f:
        f.write("request_id,label\n")
        f.writelines(labels)
    print(
        f"wrote {args.requests} requests ({sum(len(v) for v in files.values())} event lines) "
        f"and {len(labels)} labels to {args.out}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
