"""A port base for ref-dovecot.sh (it listens on base+24, +110, +143, +993, +995) whose
five ports are free right now, so differential tests run in parallel under make -j."""
import random
import socket

OFFSETS = (24, 110, 143, 993, 995)


def free_port_base(low=11000, high=31000, attempts=200):
    # Below the kernel's ephemeral ports (32768+), which outgoing connections take.
    rng = random.Random()
    for _ in range(attempts):
        base = rng.randrange(low, high)
        sockets = []
        try:
            for offset in OFFSETS:
                s = socket.socket()
                sockets.append(s)
                s.bind(("127.0.0.1", base + offset))
            return base
        except OSError:
            continue
        finally:
            for s in sockets:
                s.close()
    raise RuntimeError("no free port range for the reference Dovecot")
