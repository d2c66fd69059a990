#!/usr/bin/env python3
"""Writes the fuzz target's seed corpus: short synthetic MoldUDP64 streams
(2-byte length + packet, repeated) whose ITCH messages exercise every book
operation on a few instruments. Deterministic; run from the repository root."""
import pathlib
import random
import struct

OUT = pathlib.Path(__file__).parent / "corpus"


def header(t, locate, ts):
    return struct.pack(">cHH", t.encode(), locate, 0) + ts.to_bytes(6, "big")


def add(locate, ref, side, shares, price, ts, mpid=False):
    m = header("F" if mpid else "A", locate, ts) + struct.pack(">QcI8sI", ref, side.encode(), shares, b"SYM%-5d" % locate, price)
    return m + (b"VIRT" if mpid else b"")


def packet(session, seq, msgs, count=None):
    body = b"".join(struct.pack(">H", len(m)) + m for m in msgs)
    p = session.ljust(10).encode() + struct.pack(">QH", seq, len(msgs) if count is None else count) + body
    return struct.pack(">H", len(p)) + p


def stream(seed, n):
    rng = random.Random(seed)
    live, out, seq, ref, ts = [], [], 1, 1, 34_200_000_000_000
    for _ in range(n):
        msgs = []
        for _ in range(rng.randint(1, 5)):
            ts += rng.randint(0, 5000)
            op = rng.random()
            if not live or op < 0.45:
                ref += 1
                locate = rng.randint(1, 4)
                live.append(ref)
                msgs.append(add(locate, ref, rng.choice("BS"), rng.choice([1, 100, 300]), 1_000_000 + rng.randint(-5, 5) * 100, ts, op < 0.05))
            elif op < 0.65:
                msgs.append(header("D", 1, ts) + struct.pack(">Q", live.pop(rng.randrange(len(live)))))
            elif op < 0.75:
                msgs.append(header("X", 1, ts) + struct.pack(">QI", rng.choice(live), 50))
            elif op < 0.85:
                msgs.append(header("E", 1, ts) + struct.pack(">QIQ", rng.choice(live), 100, rng.randint(1, 10**6)))
            elif op < 0.9:
                msgs.append(header("C", 1, ts) + struct.pack(">QIQcI", rng.choice(live), 1, 7, b"Y", 1_000_100))
            else:
                old = live.pop(rng.randrange(len(live)))
                ref += 1
                live.append(ref)
                msgs.append(header("U", 1, ts) + struct.pack(">QQII", old, ref, 200, 999_900))
        out.append(packet("000000001A", seq, msgs))
        seq += len(msgs)
    return b"".join(out)


def main():
    OUT.mkdir(exist_ok=True)
    (OUT / "book-flow-small").write_bytes(stream(1, 8))
    (OUT / "book-flow-large").write_bytes(stream(2, 60))
    directory = header("R", 3, 1) + b"SYM3    " + b"NN" + struct.pack(">I", 100) + b"NAZ PNNN1N" + struct.pack(">I", 0) + b"N"
    (OUT / "directory-and-trades").write_bytes(
        packet("S", 1, [header("S", 0, 0) + b"O", directory, header("H", 3, 2) + b"SYM3    T LUDP",
                        header("P", 3, 3) + struct.pack(">QcI8sIQ", 0, b"B", 100, b"SYM3    ", 10000, 9),
                        header("Q", 3, 4) + struct.pack(">Q8sIQc", 500, b"SYM3    ", 10000, 10, b"O")]))
    (OUT / "heartbeat-and-end").write_bytes(packet("S", 5, [], 0) + packet("S", 5, [], 0xFFFF))
    (OUT / "overrun").write_bytes(packet("S", 1, [add(1, 1, "B", 100, 10000, 5)], 3))


if __name__ == "__main__":
    main()
