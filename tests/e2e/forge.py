#!/usr/bin/env python3
"""The LAN attacker of tests/e2e/trust.sh: forged packets from another
host's address, as raw IP (IPv4 or IPv6, by the addresses' form), and a
victim's bound UDP socket that receives and answers nothing.

    forge.py syn SRC SPORT DST DPORT     one TCP SYN
    forge.py udp SRC SPORT DST DPORT     one UDP datagram ("forged")
    forge.py tcp SRC SPORT DST DPORT FLAGS  one TCP segment with FLAGS, of
                                         S (SYN), A (ACK), F (FIN), P (PSH)
    forge.py hold-udp PORT               binds UDP PORT on :: (IPv4 too),
                                         prints "ready", then only waits
"""
import socket
import struct
import sys
import time


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(">%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xffff) + (total >> 16)
    return ~total & 0xffff


TCP_FLAGS = {"F": 0x01, "S": 0x02, "P": 0x08, "A": 0x10}


def segment(proto, sport, dport, flags="S"):
    """The transport header (and payload), checksum field zero."""
    if proto == socket.IPPROTO_TCP:
        # seq 1 (ack 1 with ACK), FLAGS, window 65535, a 20-byte header
        bits = sum(TCP_FLAGS[f] for f in flags)
        ack = 1 if bits & 0x10 else 0
        return struct.pack(">HHIIHHHH", sport, dport, 1, ack, 0x5000 | bits, 65535, 0, 0), 16
    payload = b"forged"
    return struct.pack(">HHHH", sport, dport, 8 + len(payload), 0) + payload, 6


def send(proto, src, sport, dst, dport, flags="S"):
    body, csum_at = segment(proto, sport, dport, flags)
    if ":" in src:
        s, d = socket.inet_pton(socket.AF_INET6, src), socket.inet_pton(socket.AF_INET6, dst)
        pseudo = s + d + struct.pack(">IxxxB", len(body), proto)
    else:
        s, d = socket.inet_aton(src), socket.inet_aton(dst)
        pseudo = struct.pack(">4s4sBBH", s, d, 0, proto, len(body))
    csum = checksum(pseudo + body) or 0xffff
    body = body[:csum_at] + struct.pack(">H", csum) + body[csum_at + 2:]
    if ":" in src:
        # IPPROTO_RAW on an IPv6 raw socket: the header is ours (IPV6_HDRINCL)
        sock = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_RAW)
        header = struct.pack(">IHBB16s16s", 6 << 28, len(body), proto, 64, s, d)
        sock.sendto(header + body, (dst, 0))
    else:
        sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
        header = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(body), 1, 0, 64, proto, 0, s, d)
        sock.sendto(header + body, (dst, 0))
    sock.close()


def hold_udp(port):
    sock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    sock.bind(("::", port))
    print("ready", flush=True)
    while True:
        time.sleep(3600)


def main(argv):
    if len(argv) == 6 and argv[1] in ("syn", "udp"):
        proto = socket.IPPROTO_TCP if argv[1] == "syn" else socket.IPPROTO_UDP
        send(proto, argv[2], int(argv[3]), argv[4], int(argv[5]))
        return 0
    if len(argv) == 7 and argv[1] == "tcp":
        send(socket.IPPROTO_TCP, argv[2], int(argv[3]), argv[4], int(argv[5]), argv[6])
        return 0
    if len(argv) == 3 and argv[1] == "hold-udp":
        hold_udp(int(argv[2]))
        return 0
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
