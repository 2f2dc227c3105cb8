#!/usr/bin/env python3
"""Sends, from the client namespace, two packets nufw cannot parse: one of
an unknown protocol (253) and one TCP packet cut short after 10 bytes of
TCP header.  Raw IP packets to DEST.

    bad_packets.py SRC DEST
"""
import socket
import struct
import sys

src, dst = socket.inet_aton(sys.argv[1]), socket.inet_aton(sys.argv[2])
sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)


def send(proto, payload):
    header = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 1, 0, 64, proto, 0, src, dst)
    sock.sendto(header + payload, (sys.argv[2], 0))


send(253, b"not a transport header")
send(6, struct.pack(">HHIH", 40000, 80, 1, 0x5002))   # 10 bytes of TCP
