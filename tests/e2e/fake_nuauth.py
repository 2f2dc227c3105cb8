#!/usr/bin/env python3
"""A nuauth that answers HELLO and then sends a message with an impossible
length, to see nufw close the link and say why.

    fake_nuauth.py PKI_DIR PORT [CERT KEY [ADDRESS]]

Prints "ready" once listening; serves one gateway, then exits.  CERT and
KEY: the certificate it shows instead of PKI_DIR's nuauth certificate (a
rogue nuauth); ADDRESS: where it listens (127.0.0.1).  A peer that refuses
the handshake makes it print "handshake refused" and exit.
"""
import os
import socket
import ssl
import struct
import sys

pki, port = sys.argv[1], int(sys.argv[2])
cert = sys.argv[3] if len(sys.argv) > 4 else os.path.join(pki, "nuauth-cert.pem")
key = sys.argv[4] if len(sys.argv) > 4 else os.path.join(pki, "nuauth-key.pem")
address = sys.argv[5] if len(sys.argv) > 5 else "127.0.0.1"
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind((address, port))
srv.listen(1)
print("ready", flush=True)
conn, _ = srv.accept()
conn.settimeout(10)
try:
    tls = ctx.wrap_socket(conn, server_side=True)
except (OSError, ssl.SSLError) as e:
    print("handshake refused: %s" % e, flush=True)
    sys.exit(0)
tls.recv(4096)                                    # the gateway's HELLO
body = struct.pack(">HHB", 1, 1, 1) + struct.pack(">HHB", 2, 1, 1) + struct.pack(">HHB", 3, 1, 3)
tls.sendall(struct.pack(">BBHI", 1, 1, 8 + len(body), 0) + body)
tls.sendall(struct.pack(">BBHI", 1, 17, 0xFFFF, 7))  # DECISION claiming 65535 bytes
try:
    tls.recv(4096)                                # until nufw closes
except (OSError, ssl.SSLError):
    pass
print("done", flush=True)
