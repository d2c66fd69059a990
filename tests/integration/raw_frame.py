#!/usr/bin/env python3
"""Sends one MoldUDP64 packet (a System Event message, sequence 1) to a feed
group as a raw Ethernet frame, its IPv4 header checksum right or wrong.

Usage: raw_frame.py INTERFACE SOURCE GROUP PORT good|bad
"""
import socket
import struct
import sys


def checksum(data: bytes) -> int:
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def main() -> None:
    interface, source, group, port, kind = sys.argv[1:6]
    message = b"S" + struct.pack("!HH", 0, 0) + b"\0" * 6 + b"O"  # System Event: start of messages
    payload = b"RAWFRAME01" + struct.pack("!QH", 1, 1) + struct.pack("!H", len(message)) + message
    udp = struct.pack("!HHHH", int(port), int(port), 8 + len(payload), 0) + payload  # no UDP checksum
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 1, 17, 0,
                         socket.inet_aton(source), socket.inet_aton(group))
    good = checksum(header)
    header = header[:10] + struct.pack("!H", good if kind == "good" else good ^ 0x5A5A) + header[12:]
    g = socket.inet_aton(group)
    destination = bytes([0x01, 0x00, 0x5E, g[1] & 0x7F, g[2], g[3]])
    with open(f"/sys/class/net/{interface}/address") as f:
        mac = bytes.fromhex(f.read().strip().replace(":", ""))
    frame = destination + mac + struct.pack("!H", 0x0800) + header + udp
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((interface, 0))
    s.send(frame)


if __name__ == "__main__":
    main()
