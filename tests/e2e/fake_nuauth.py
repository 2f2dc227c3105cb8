#!/usr/bin/env python3
"""A nuauth that answers HELLO and then sends a message with an impossible
length, to see nufw close the link and say why.

    fake_nuauth.py PKI_DIR PORT

Prints "ready" once listening; serves one gateway, then exits.
"""
import os
import socket
import ssl
import struct
import sys

pki, port = sys.argv[1], int(sys.argv[2])
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(os.path.join(pki, "nuauth-cert.pem"), os.path.join(pki, "nuauth-key.pem"))
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", port))
srv.listen(1)
print("ready", flush=True)
conn, _ = srv.accept()
tls = ctx.wrap_socket(conn, server_side=True)
tls.settimeout(10)
tls.recv(4096)                                    # the gateway's HELLO
body = struct.pack(">HHB", 1, 1, 1) + struct.pack(">HHB", 2, 1, 1) + struct.pack(">HHB", 3, 1, 3)
tls.sendall(struct.pack(">BBHI", 1, 1, 8 + len(body), 0) + body)
tls.sendall(struct.pack(">BBHI", 1, 17, 0xFFFF, 7))  # DECISION claiming 65535 bytes
try:
    tls.recv(4096)                                # until nufw closes
except (OSError, ssl.SSLError):
    pass
print("done", flush=True)
