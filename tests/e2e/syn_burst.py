#!/usr/bin/env python3
"""Sends COUNT TCP SYNs of as many new flows (source ports 20000 up) from
SRC to DEST:PORT, as raw IP packets, from the client namespace.

    syn_burst.py SRC DEST PORT COUNT
"""
import socket
import struct
import sys


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(">%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xffff) + (total >> 16)
    return ~total & 0xffff


src, dst = socket.inet_aton(sys.argv[1]), socket.inet_aton(sys.argv[2])
port, count = int(sys.argv[3]), int(sys.argv[4])
sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
for i in range(count):
    tcp = struct.pack(">HHIIHHHH", 20000 + i, port, 1000 + i, 0, 0x5002, 65535, 0, 0)
    pseudo = struct.pack(">4s4sBBH", src, dst, 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack(">H", checksum(pseudo + tcp)) + tcp[18:]
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), i & 0xffff, 0, 64, 6, 0, src, dst)
    sock.sendto(ip + tcp, (sys.argv[2], 0))
