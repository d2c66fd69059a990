#!/usr/bin/env python3
"""Checks what a real Prometheus scraped from `fhctl exporter` against the
region as `fhctl stats --json` read it once the feed had ended.

Usage: prometheus_check.py STATS_JSON FHCTL WORKDIR  (Prometheus on 127.0.0.1:9090)
"""
import json
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

stats_file, fhctl, work = sys.argv[1:4]
stats = json.load(open(stats_file))
counters, histograms = stats["counters"], stats["histograms"]


def series(expr):
    url = "http://127.0.0.1:9090/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    with urllib.request.urlopen(url, timeout=5) as r:
        return json.load(r)["data"]["result"]


def values(expr):
    return [float(s["value"][1]) for s in series(expr)]


# Wait (bounded) for a scrape taken after the feed ended.
messages = counters["messages"]
deadline = time.time() + 60
while True:
    try:
        got = values('fh_messages_total{feed="prom"}')
    except OSError:
        got = []
    if got == [messages]:
        break
    if time.time() > deadline:
        sys.exit(f"FAIL prometheus never saw fh_messages_total = {messages} (last {got})")
    time.sleep(0.5)

failed = []


def check(what, ok):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failed.append(what)


check(f"fh_messages_total = {messages}, the file's 12012", messages == 12012)
for line in ("a", "b"):
    want = counters[f"line_{line}.packets"]
    got = values(f'fh_line_packets_total{{feed="prom",line="{line}"}}')
    check(f"fh_line_packets_total{{line=\"{line}\"}} = {got}, line_{line}.packets {want}", got == [want])
check("fh_up = 1", values('fh_up{feed="prom"}') == [1])
check("fh_book_live_orders = book.live_orders",
      values('fh_book_live_orders{feed="prom"}') == [counters["book.live_orders"]])

for name in ("receive_to_publish", "feed_to_receive"):
    h = histograms[f"latency.{name}_ns"]
    metric = f"fh_latency_{name}_seconds"
    got = values(f'{metric}_count{{feed="prom"}}')
    check(f"{metric}_count = {got}, the region's {h['count']}", got == [h["count"]])
    s = values(f'{metric}_sum{{feed="prom"}}')
    check(f"{metric}_sum = {s}, the region's {h['sum'] / 1e9}",
          len(s) == 1 and abs(s[0] - h["sum"] / 1e9) <= 1e-9 * abs(s[0]) + 1e-12)
    # Prometheus interpolates inside one of the exporter's buckets; the
    # region's p99 must lie in that same bucket.
    edges = sorted(float(x["metric"]["le"]) for x in series(f'{metric}_bucket{{feed="prom",le!="+Inf"}}'))
    q = values(f'histogram_quantile(0.99, {metric}_bucket{{feed="prom"}})')
    p99 = h["p99"] / 1e9
    if len(q) != 1 or not edges:
        check(f"{metric}: a p99 from prometheus ({q}) over {len(edges)} buckets", False)
        continue
    upper = next((e for e in edges if e >= q[0] - 1e-15), float("inf"))
    lower = max((e for e in edges if e < upper), default=0.0)
    check(f"{metric}: prometheus's p99 {q[0]:.9g} s is in the bucket ({lower:.9g}, {upper:.9g}], "
          f"and so is the region's, {p99:.9g} s", lower - 1e-12 <= p99 <= upper + 1e-12)

packets = counters["line_a.packets"] + counters["line_b.packets"] + counters["retransmission.packets"]
timed = histograms["latency.receive_to_publish_ns"]["count"]
check(f"one receive → publish time per packet: {timed} = {packets}", timed == packets)
stamped = histograms["latency.feed_to_receive_ns"]["count"]
check(f"one feed → receive time per message: {stamped} = {messages}", stamped == messages)
check("every feed → receive delay at or above 0 (one clock)",
      histograms["latency.feed_to_receive_ns"]["negative"] == 0)

# The textfile form: the same families, written whole under the final name.
out = work + "/fh.prom"
subprocess.run([fhctl, "exporter", "--shm", "prom", "--shm-dir", work, "--textfile", out], check=True)
text = open(out).read()
check("the textfile holds fh_messages_total and the histograms",
      f'fh_messages_total{{feed="prom"}} {messages}\n' in text and
      "# TYPE fh_latency_receive_to_publish_seconds histogram\n" in text)
lint = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True)
check(f"promtool check metrics finds nothing to say {lint.stdout.strip()}{lint.stderr.strip()}",
      lint.returncode == 0 and not lint.stdout.strip())

# The server answers what it does not serve, clearly.
def status(path, method="GET"):
    try:
        with urllib.request.urlopen(urllib.request.Request("http://127.0.0.1:9464" + path, method=method),
                                    timeout=5) as r:
            return r.status, r.headers.get("Content-Type"), r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type"), e.read()
code, kind, body = status("/metrics")
check(f"GET /metrics: {code} {kind}", code == 200 and kind.startswith("text/plain; version=0.0.4"))
code, _, body = status("/metrics", "HEAD")
check(f"HEAD /metrics: {code}, no body", code == 200 and body == b"")
check(f"GET /nothing: {status('/nothing')[0]}", status("/nothing")[0] == 404)
check(f"POST /metrics: {status('/metrics', 'POST')[0]}", status("/metrics", "POST")[0] == 405)
sys.exit(1 if failed else 0)
