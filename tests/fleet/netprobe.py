"""Network probes for the fleet tests, run as `python3 -c "$(cat netprobe.py)" ...` inside a namespace.

    probe tcp|udp ADDR PORT TIMEOUT_SECONDS
        prints one word: open (answered: TCP connected / UDP echoed), closed (TCP reset or ICMP port
        unreachable: the packet got through and nothing listens), filtered (no answer before the
        timeout: dropped), unreachable (ICMP host/net unreachable or prohibited, local refusal)
    listen tcp|udp PORT PEERLOG
        starts an echo server on every address in the background and prints its PID once it listens
        (TCP: writes "fleet-echo" and closes; UDP: sends every datagram back); appends the source
        address of every connection or datagram to PEERLOG
"""
import errno
import os
import socket
import sys


def probe(proto, addr, port, timeout):
    kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
    s = socket.socket(socket.AF_INET, kind)
    s.settimeout(timeout)
    try:
        s.connect((addr, port))
        if proto == "udp":
            s.send(b"fleet-probe")
            s.recv(64)
        return "open"
    except ConnectionRefusedError:
        return "closed"
    except socket.timeout:
        return "filtered"
    except OSError as e:
        if e.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EACCES, errno.EPERM):
            return "unreachable"
        raise
    finally:
        s.close()


def serve(proto, port, peerlog):
    kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
    s = socket.socket(socket.AF_INET, kind)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    if proto == "tcp":
        s.listen(16)
    pid = os.fork()
    if pid:
        print(pid, flush=True)
        os._exit(0)
    os.setsid()
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    while True:
        if proto == "tcp":
            conn, peer = s.accept()
            try:
                conn.sendall(b"fleet-echo\n")
            finally:
                conn.close()
        else:
            data, peer = s.recvfrom(2048)
            s.sendto(data, peer)
        with open(peerlog, "a") as log:
            log.write(peer[0] + "\n")


if __name__ == "__main__":
    if sys.argv[1] == "probe":
        print(probe(sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5])))
    elif sys.argv[1] == "listen":
        serve(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    else:
        sys.exit("usage: probe|listen ...")
