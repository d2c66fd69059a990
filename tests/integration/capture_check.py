#!/usr/bin/env python3
"""Checks a pcapng of `fhctl capture` against the region's counters, the
published file (through `fhctl decode`) and Debian's tshark dissectors.

Usage: capture_check.py udp|snapshot FILE.pcapng STATS.json FHCTL SOURCE
  udp: the capture was attached before the day began: every packet of each
       line is in it, and its messages are the whole day.
  snapshot: attached after a mid-day join: the snapshot's messages are in it
       as SoupBinTCP, and each UDP message is the day's message of its number.
"""
import collections
import json
import subprocess
import sys

mode, pcap, stats_path, fhctl, source = sys.argv[1:6]
counters = json.load(open(stats_path))["counters"]
LINES = {"a": "line_a", "b": "line_b", "retransmission": "retransmission"}
PORTS = ["26400", "26401", "26501"]


def tshark(*args):
    decode = [a for p in PORTS for a in ("-d", f"udp.port=={p},moldudp64")]
    decode += ["-d", "tcp.port==26600,soupbintcp"]
    r = subprocess.run(["tshark", "-n", "-r", pcap, *decode, *args], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"tshark failed ({r.returncode}): {r.stderr}")
    return [line.split("\t") for line in r.stdout.splitlines()]


def line_of(interface_name):
    return interface_name.rsplit(":", 1)[1]  # fh:REGION:LINE


# Every frame, by interface, as tshark's MoldUDP64 dissector reads it.
frames = tshark("-T", "fields", "-e", "frame.number", "-e", "frame.interface_name", "-e", "moldudp64.count",
                "-e", "soupbintcp.packet_type", "-e", "frame.interface_description", "-e", "frame.time_epoch")
packets = collections.Counter()
messages = collections.Counter()
soup_messages = 0
finer_than_us = 0
WHERE = {"a": "239.1.1.1:26400", "b": "239.1.1.2:26401", "retransmission": "198.18.0.1:26500 -> ?:26501",
         "snapshot": "198.18.0.1:26600"}
for number, name, count, soup_types, description, epoch in frames:
    line = line_of(name)
    packets[line] += 1
    if WHERE[line] not in description:
        sys.exit(f"frame {number}: interface {name} is described as '{description}', without {WHERE[line]}")
    finer_than_us += not epoch.endswith("000")
    if line == "snapshot":
        soup_messages += [t.strip("'") for t in soup_types.split(",")].count("S")
        continue
    if count == "":
        sys.exit(f"frame {number} (line {line}) is not dissected as MoldUDP64")
    messages[line] += int(count) if int(count) != 0xFFFF else 0  # end of session: count 65535
# Receive times in ns: a capture whose every time is a whole µs would not be.
if finer_than_us == 0:
    sys.exit("no frame has a receive time finer than a microsecond")
malformed = tshark("-Y", "_ws.malformed")
if malformed:
    sys.exit(f"tshark finds {len(malformed)} malformed frames")
print(f"tshark: {sum(packets.values())} frames: " + ", ".join(f"{k} {v} ({messages[k]} messages)"
                                                           for k, v in sorted(packets.items())))

for line, prefix in LINES.items():
    want_packets, want_messages = counters[prefix + ".packets"], counters[prefix + ".messages"]
    if mode == "udp" and (packets[line], messages[line]) != (want_packets, want_messages):
        sys.exit(f"line {line}: {packets[line]} packets with {messages[line]} messages captured, "
                 f"the region counted {want_packets} with {want_messages}")
    if mode == "snapshot" and not (0 < packets[line] <= want_packets or (line == "retransmission" and want_packets == 0)):
        sys.exit(f"line {line}: {packets[line]} packets captured of the {want_packets} the region counted")


def decode(path):
    r = subprocess.run([fhctl, "decode", path], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"fhctl decode {path} failed: {r.stderr}")
    out = {}
    for text in r.stdout.splitlines():
        m = json.loads(text)
        m.pop("session", None)
        seq = m["seq"]
        if seq in out and out[seq] != m:
            sys.exit(f"sequence {seq} is captured with two different messages")
        out[seq] = m
    return out, r.stderr


day, _ = decode(source)
captured, notes = decode(pcap)
wrong = [s for s, m in captured.items() if day.get(s) != m]
if wrong:
    sys.exit(f"{len(wrong)} captured messages differ from the day's, the first at sequence {min(wrong)}")
if mode == "udp":
    if sorted(captured) != sorted(day):
        missing = sorted(set(day) - set(captured))
        sys.exit(f"the capture lacks {len(missing)} of the day's {len(day)} messages (first {missing[:3]})")
    print(f"fhctl decode: the capture holds each of the day's {len(day)} messages, as published")
else:
    if soup_messages != counters["snapshot.messages"] or soup_messages == 0:
        sys.exit(f"{soup_messages} SoupBinTCP messages captured, the snapshot merged had {counters['snapshot.messages']}")
    print(f"tshark: the snapshot's {soup_messages} messages as SoupBinTCP; fhctl decode: {len(captured)} "
          f"messages of lines A and B, each the day's")
