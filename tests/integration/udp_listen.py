#!/usr/bin/env python3
"""A plain kernel UDP receiver for the veth tests: binds ADDR:PORT (joining
ADDR on INTERFACE_ADDR when it is a multicast group), prints how many
datagrams arrived before TIMEOUT seconds of silence (or COUNT were seen), and
exits 0 only if at least COUNT did. Writes READY to stdout once listening."""
import socket
import struct
import sys


def main():
    addr, port, if_addr, timeout, count = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4]), int(sys.argv[5])
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    first = int(addr.split(".")[0])
    if 224 <= first <= 239:
        mreq = struct.pack("4s4s", socket.inet_aton(addr), socket.inet_aton(if_addr))
        s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
    s.settimeout(timeout)
    print("READY", flush=True)
    got = 0
    try:
        while got < count:
            s.recv(65536)
            got += 1
    except socket.timeout:
        pass
    print(got, flush=True)
    sys.exit(0 if got >= count else 1)


if __name__ == "__main__":
    main()
