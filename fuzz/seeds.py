#!/usr/bin/env python3
"""Writes the fuzzers' starting inputs into OUT/<target>/ from the repository's own
files: the sample requests, the conformance requests, the generated bench corpus
(BENCH_BODIES, from `tern-corpus`), the bundled and test campaigns, and
hand-written Redis replies. `fuzz/run.sh` calls it; the minimised corpus that
`afl-cmin` keeps from a run is what gets committed (fuzz/corpus/).

usage: seeds.py OUT BENCH_DIR
"""

import gzip
import json
import pathlib
import sys
import tomllib

ROOT = pathlib.Path(__file__).resolve().parent.parent


def write(out, target, name, data):
    path = out / target / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data if isinstance(data, bytes) else data.encode())


def request_bodies(bench):
    bodies = sorted((ROOT / "bidder/samples").glob("*.json"))
    bodies += sorted((ROOT / "bidder/tests/conformance/requests").glob("*.json"))
    bodies += sorted((bench / "bodies").glob("*.json"))[:60]
    return bodies


def http_seeds(out, bodies):
    def post(body, extra=b""):
        return (b"POST /openrtb2/bid/ex-1 HTTP/1.1\r\nHost: b\r\nContent-Type: application/json\r\n"
                + extra + b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)

    for i, path in enumerate(bodies[:12]):
        body = path.read_bytes()
        write(out, "http", f"length-{i:02}", post(body))
        third = max(1, len(body) // 3)
        chunks = [body[:third], body[third:2 * third], body[2 * third:]]
        chunked = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks if c) + b"0\r\n\r\n"
        write(out, "http", f"chunked-{i:02}",
              b"POST /openrtb2/bid HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked)
        packed = gzip.compress(body)
        write(out, "http", f"gzip-{i:02}",
              b"POST /openrtb2/bid HTTP/1.1\r\nContent-Encoding: gzip\r\nContent-Length: "
              + str(len(packed)).encode() + b"\r\n\r\n" + packed)
    body = bodies[0].read_bytes()
    write(out, "http", "pipelined", post(body) + post(body, b"Connection: close\r\n"))
    write(out, "http", "expect", post(body, b"Expect: 100-continue\r\n"))
    write(out, "http", "notice", b"GET /notice/imp?t=AAAA&p=1.5 HTTP/1.1\r\nHost: b\r\n\r\n"
          b"GET /notice/loss?t=AAAA&r=102&m=0.5 HTTP/1.0\r\n\r\n")
    write(out, "http", "head", b"HEAD /openrtb2/bid HTTP/1.1\r\n\r\nGET /nope HTTP/1.1\r\n\r\n")
    write(out, "http", "conflict", b"POST /openrtb2/bid HTTP/1.1\r\nContent-Length: 3\r\n"
          b"Transfer-Encoding: chunked\r\n\r\n3\r\n{}\n\r\n0\r\n\r\n")


def bid_seeds(out, bodies):
    for i, path in enumerate(bodies):
        write(out, "bid", f"{i:03}-{path.stem}", path.read_bytes())


def notice_seeds(out):
    write(out, "notice", "win", b"\x001.25")
    write(out, "notice", "billing", b"\x010.75")
    write(out, "notice", "loss", b"\x021.10\n102\n0.9")
    write(out, "notice", "loss-plain", b"\x02\n4\n")
    write(out, "notice", "forged", b"\x03/notice/imp?t=AAAAAAAA&p=1.5")
    write(out, "notice", "forged-click", b"\x03/notice/click?t=%41%41&c=1")


def campaign_documents():
    files = sorted((ROOT / "bidder/campaigns").glob("*.toml"))
    files.append(ROOT / "bidder/tests/conformance/campaigns.toml")
    return [(f.stem, f.read_text()) for f in files]


def campaigns_seeds(out, bench):
    for name, text in campaign_documents():
        write(out, "campaigns", f"{name}.toml", text)
        write(out, "campaigns", f"{name}.json", json.dumps(tomllib.loads(text)))
    generated = bench / "campaigns.json"
    if generated.exists():
        document = json.loads(generated.read_text())
        items = document["campaigns"] if isinstance(document, dict) else document
        write(out, "campaigns", "bench.json", json.dumps({"campaigns": items[:8]}))


def wire(value):
    """A JSON value in DynamoDB's wire form."""
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, (int, float)):
        return {"N": repr(value)}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, list):
        return {"L": [wire(v) for v in value]}
    if isinstance(value, dict):
        return {"M": {k: wire(v) for k, v in value.items()}}
    return {"NULL": True}


def dynamodb_seeds(out):
    n = 0
    for _, text in campaign_documents():
        for campaign in tomllib.loads(text).get("campaigns", [])[:6]:
            item = {k: wire(v) for k, v in campaign.items() if k != "id"}
            item["campaign_id"] = {"S": campaign["id"]}
            item["version"] = {"N": "3"}
            write(out, "dynamodb_item", f"campaign-{n:02}", json.dumps(item))
            n += 1
    ledger = {
        "pk": {"S": "ledger#c1"},
        "total_spent": {"N": "1500000"},
        "total_committed": {"N": "2500000"},
        "days": {"M": {"2026-11-30": {"M": {"spent": {"N": "10"}, "committed": {"N": "20"}}}}},
        "leases": {"M": {"0123456789abcdef#7": {"M": {"granted": {"N": "5"}}}}},
        "flushed": {"M": {"0123456789abcdef": {"N": "9"}}},
        "tags": {"SS": ["a", "b"]},
        "nums": {"NS": ["1", "2.5"]},
        "blob": {"B": "AAEC"},
    }
    write(out, "dynamodb_item", "ledger", json.dumps(ledger))


def redis_seeds(out):
    replies = {
        "int": b"\x00:3\r\n",
        "nil": b"\x00$-1\r\n",
        "ok-then-int": b"\x01+OK\r\n:1\r\n",
        "mget": b"\x00*3\r\n$1\r\n7\r\n$-1\r\n:2\r\n",
        "moved": b"\x00-MOVED 3999 127.0.0.1:6381\r\n",
        "ask": b"\x01+OK\r\n-ASK 12182 127.0.0.1:7002\r\n",
        "noauth": b"\x00-NOAUTH Authentication required.\r\n",
        "resp3": b"\x02%1\r\n+k\r\n:1\r\n~2\r\n#t\r\n_\r\n,1.5\r\n",
        "verbatim": b"\x00=15\r\ntxt:Some string\r\n",
        "nested": b"\x00*2\r\n*1\r\n(12345678901234567890\r\n>1\r\n+x\r\n",
    }
    for name, data in replies.items():
        write(out, "redis_reply", name, data)


def main():
    out = pathlib.Path(sys.argv[1])
    bench = pathlib.Path(sys.argv[2])
    bodies = request_bodies(bench)
    http_seeds(out, bodies)
    bid_seeds(out, bodies)
    notice_seeds(out)
    campaigns_seeds(out, bench)
    dynamodb_seeds(out)
    redis_seeds(out)


if __name__ == "__main__":
    main()
