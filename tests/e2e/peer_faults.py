#!/usr/bin/env python3
"""Peers that misbehave at the worst moments, against a running nuauth.

    peer_faults.py PKI_DIR NUAUTH_PID USER PASSWORD

Run inside the gateway namespace (nuauth on 127.0.0.1 ports 4128 and 4129).
1. Clients that reset the connection right after HELLO, while nuauth is
   answering them.
2. A gateway that asks about a packet and resets while nuauth is paused, so
   that nuauth's timeout answer is the send that finds the link dead.
Exits 0 when nuauth is still running afterwards; the sanitizer build's log
tells the rest.
"""
import os
import signal
import socket
import ssl
import struct
import sys
import time

pki, pid, user, password = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]


def attr(kind, value):
    return struct.pack(">HH", kind, len(value)) + value


def msg(kind, body, ident=0):
    return struct.pack(">BBHI", 1, kind, 8 + len(body), ident) + body


def recv_msg(sock):
    head = b""
    while len(head) < 8:
        chunk = sock.recv(8 - len(head))
        if not chunk:
            raise EOFError("closed")
        head += chunk
    _, kind, length, _ = struct.unpack(">BBHI", head)
    body = b""
    while len(body) < length - 8:
        body += sock.recv(length - 8 - len(body))
    return kind


def tls(port, client_cert=False):
    ctx = ssl.create_default_context(cafile=os.path.join(pki, "cacert.pem"))
    ctx.check_hostname = False
    if client_cert:
        ctx.load_cert_chain(os.path.join(pki, "nufw-cert.pem"), os.path.join(pki, "nufw-key.pem"))
    return ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=5),
                           server_hostname="nuauth.lab")


def reset(sock):
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def hello(role):
    return msg(1, attr(1, b"\1") + attr(2, b"\1") + attr(3, bytes([role])))


for _ in range(5):
    c = tls(4129)
    c.sendall(hello(2))
    reset(c)

client = tls(4129)
client.sendall(hello(2))
recv_msg(client)
client.sendall(msg(32, attr(11, b"PLAIN") + attr(13, b"\0" + user.encode() + b"\0" + password.encode())))
assert recv_msg(client) == 34, "login failed"

gateway = tls(4128, client_cert=True)
gateway.sendall(hello(1))
recv_msg(gateway)
flow = bytes([4, 6]) + struct.pack(">HH", 40999, 81) + socket.inet_aton("10.201.0.77") \
    + socket.inet_aton("10.202.0.2")
gateway.sendall(msg(16, attr(6, flow), 4242))
time.sleep(0.2)                     # nuauth has the packet waiting
os.kill(pid, signal.SIGSTOP)
try:
    reset(gateway)
    time.sleep(2.5)                 # past nuauth_packet_timeout
finally:
    os.kill(pid, signal.SIGCONT)
time.sleep(0.5)
client.close()
os.kill(pid, 0)                     # raises if nuauth died
print("nuauth survived")
