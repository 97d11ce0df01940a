"""The fleet's DNS resolver: answers every query at once with NXDOMAIN (a resolver that knows no names).

    python3 resolver.py ADDRESS...      serves UDP port 53 on each ADDRESS until killed

The fleet has no DNS, but hosts look names up all the same (fail2ban its own host name, tools the
names in their configuration); with an unreachable nameserver each lookup would wait for the
resolver's timeout. Names the hosts must find are in their /etc/hosts, as on a real host.
"""
import select
import socket
import struct
import sys

NXDOMAIN = 3


def questions_end(query, count):
    """Offset just past COUNT questions (name labels, type, class) from offset 12; None when malformed."""
    at = 12
    for _ in range(count):
        while True:
            if at >= len(query):
                return None
            length = query[at]
            at += 1
            if length == 0:
                break
            if length & 0xC0:  # a compression pointer ends the name
                at += 1
                break
            at += length
        at += 4
    return at if at <= len(query) else None


def answer(query):
    """The reply to QUERY: same ID and questions, QR and RA set, RD copied, rcode NXDOMAIN."""
    if len(query) < 12:
        return None
    ident, flags, qdcount = struct.unpack("!HHH", query[:6])
    end = questions_end(query, qdcount)
    if flags & 0x8000 or end is None:  # a response, or not a query we can read
        return None
    opcode = (flags >> 11) & 0xF
    reply_flags = 0x8000 | (opcode << 11) | (flags & 0x0100) | 0x0080 | NXDOMAIN
    return struct.pack("!HHHHHH", ident, reply_flags, qdcount, 0, 0, 0) + query[12:end]


def main(addresses):
    sockets = []
    for address in addresses:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((address, 53))
        sockets.append(s)
    while True:
        ready, _, _ = select.select(sockets, [], [])
        for s in ready:
            query, peer = s.recvfrom(4096)
            reply = answer(query)
            if reply is not None:
                s.sendto(reply, peer)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: resolver.py ADDRESS...")
    main(sys.argv[1:])
