"""TCP helpers for firewall tests, run inside network namespaces.

  tcp.py listen PORT...          accepts (and closes) connections on every PORT; prints "ready"
  tcp.py probe SRC DST PORT...   connects from SRC to DST:PORT for each PORT at once; prints a JSON
                                 object PORT -> "open" (connected), "refused" (RST: reached the
                                 host, nothing listening) or "dropped" (no answer within the timeout)
"""
import json
import socket
import sys
import threading

TIMEOUT = 1.5


def listen(ports):
    servers = []
    for port in ports:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("0.0.0.0", port))
        s.listen(64)
        servers.append(s)

    def serve(s):
        while True:
            conn, _ = s.accept()
            conn.close()

    for s in servers:
        threading.Thread(target=serve, args=(s,), daemon=True).start()
    print("ready", flush=True)
    threading.Event().wait()


def probe(src, dst, ports):
    results = {}

    def one(port):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(TIMEOUT)
        s.bind((src, 0))
        try:
            s.connect((dst, port))
            results[port] = "open"
        except ConnectionRefusedError:
            results[port] = "refused"
        except (socket.timeout, TimeoutError):
            results[port] = "dropped"
        finally:
            s.close()

    threads = [threading.Thread(target=one, args=(p,)) for p in ports]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(json.dumps({str(p): results[p] for p in ports}))


if __name__ == "__main__":
    if sys.argv[1] == "listen":
        listen([int(p) for p in sys.argv[2:]])
    else:
        probe(sys.argv[2], sys.argv[3], [int(p) for p in sys.argv[4:]])
