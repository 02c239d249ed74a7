"""Print a free TCP port on 127.0.0.1 for a server a script starts later.

The port is taken below the kernel's ephemeral range (net.ipv4.ip_local_port_range,
32768-60999 by default), where no outgoing connection is ever given a port: a port
from bind(0) comes from that range, and between the pick and the server's own bind a
browser or WebDriver connection could take it (seen in CI: "Address already in use").
"""
import random
import socket

lo = 20000
try:
    with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
        hi = int(f.read().split()[0]) - 1
except OSError:
    hi = 32767
for _ in range(200):
    port = random.randint(lo, max(lo, hi))
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        continue
    finally:
        s.close()
    print(port)
    break
else:
    raise SystemExit("no free port below the ephemeral range")
