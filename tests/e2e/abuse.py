#!/usr/bin/env python3
"""Clients that misuse nuauth's client port, for tests/e2e/faults.sh.

    abuse.py idle N SECONDS        N TLS connections that never log in, held
                                   (those nuauth refuses are counted: "holding
                                   K of N")
    abuse.py badlogins N USER      N logins with a wrong password
    abuse.py slow SECONDS          HELLO sent one byte a second
    abuse.py stall N SECONDS       N links that stop answering in the middle of
                                   the TLS handshake, held
    abuse.py announce USER PASSWORD SADDR
                                   logs in, then announces a connection from
                                   SADDR (not this client's address)
    abuse.py login USER PASSWORD   one login: prints "ok MS" or
                                   "refused MS: TEXT" (the AUTH_RESULT text)
    abuse.py burst N P USER PASSWORD
                                   N PLAIN logins, P at a time: prints
                                   "ok K of N in MS ms: R logins/s"
    abuse.py badframes client USER PASSWORD
    abuse.py badframes gateway     on links that are up (a logged-in client on
                                   4129, a gateway past HELLO on 4128), one
                                   bad message each: a length of 16385 (one
                                   above the maximum), one of 65535, and an
                                   attribute that runs past its message; prints
                                   "CASE: closed" (with nuauth's ERROR text if
                                   it sent one) or "CASE: still open"
    abuse.py gwstats SECONDS       as a gateway (CERT, KEY): GW_STATS without
                                   QUEUE, with a 7-byte counter (both must be
                                   closed), and one for queue 77 with every
                                   counter 2^64-1 (must stay open; held
                                   SECONDS); prints "CASE: closed (...)" or
                                   "CASE: still open"
    abuse.py nocert                a gateway with no certificate on 4128:
                                   prints "closed" or "still open"
    abuse.py scramfirst USER       the first step of a SCRAM-SHA-256 login:
                                   prints "step i=ITERATIONS s=SALT" when
                                   nuauth answers with its challenge, or
                                   "result CODE: TEXT" when it refuses at once
    abuse.py claimer USER PASSWORD SADDR LO HI DADDR DPORT ANSWER
                                   a hostile desktop user: logs in, then every
                                   0.5 s announces every TCP flow SADDR:LO..HI
                                   -> DADDR:DPORT (before any packet exists),
                                   and answers each PUSH with ANSWER: "claim"
                                   (a CONN for the flow, whatever it is),
                                   "notmine" (NOT_MINE) or "silent" (nothing);
                                   prints "logged in", then "push FLOW" per
                                   PUSH; on SIGTERM sends LOGOUT, prints
                                   "logged out" and exits
    abuse.py plaintime N USER...   N PLAIN logins of each USER with a wrong
                                   password, each on a new link, the users
                                   taking turns; times the AUTH message to
                                   its AUTH_RESULT only: prints a line per
                                   USER, "mean MS median MS refused K of N:
                                   TEXT" (the last AUTH_RESULT text)
    abuse.py early                 KEEPALIVE before HELLO, and after HELLO but
                                   before the login: prints "CASE: closed" or
                                   "CASE: still open" for each
    abuse.py unknowntype client USER PASSWORD | unknowntype gateway
                                   a message of a type no version knows on a
                                   link that is up: "ignored" (KEEPALIVE
                                   still echoed); for a client, also before
                                   the login, where it must be "closed"
    abuse.py sessions N USER PASSWORD
                                   N logins held at once: prints "logged in K,
                                   refused R: TEXT" (the last refusal's text)
    abuse.py flood USER PASSWORD SADDR SECONDS
                                   for SECONDS, as fast as it can: one logged-in
                                   link sends full ANNOUNCEs (744 CONNs each)
                                   for flows from SADDR (not its address);
                                   meanwhile other links send garbage instead
                                   of TLS, an oversized frame before HELLO,
                                   KEEPALIVE before HELLO, and every 5 s one
                                   logs in and sends an oversized frame.
                                   Prints "flooding" when the first ANNOUNCE
                                   is sent, then a summary line

    abuse.py gwcert PORT           a gateway's TLS link to PORT with CERT and
                                   KEY, HELLO sent: "closed" when nuauth
                                   refuses it, exit 0

Environment: NUAUTH (address), CA (nuauth's CA file), SRC (source address);
for a gateway CERT and KEY (its certificate and key).
"""
import os
import socket
import ssl
import struct
import sys
import time

HOST = os.environ["NUAUTH"]
CTX = ssl.create_default_context(cafile=os.environ["CA"])
CTX.check_hostname = False


def attr(kind, value):
    return struct.pack(">HH", kind, len(value)) + value


def msg(kind, body=b""):
    return struct.pack(">BBHI", 1, kind, 8 + len(body), 0) + body


def recv_exact(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data


def recv_msg(sock):
    _, kind, length, _ = struct.unpack(">BBHI", recv_exact(sock, 8))
    return kind, recv_exact(sock, length - 8)


def attrs(body):
    found, pos = {}, 0
    while pos + 4 <= len(body):
        k, n = struct.unpack(">HH", body[pos:pos + 4])
        found[k] = body[pos + 4:pos + 4 + n]
        pos += 4 + n
    return found


def connect(port=4129, ctx=CTX):
    raw = socket.socket()
    raw.bind((os.environ.get("SRC", "0.0.0.0"), 0))
    raw.settimeout(10)
    raw.connect((HOST, port))
    return ctx.wrap_socket(raw, server_hostname="nuauth.lab")


def connect_retry():
    """connect(), tried again for up to 5 s while nuauth refuses the link:
    links an earlier test held from this address may still count against
    nuauth_single_ip_prelogin_limit until nuauth has seen them close."""
    for _ in range(100):
        try:
            return connect()
        except (ssl.SSLError, OSError):
            time.sleep(0.05)
    return connect()


def gateway_connect(with_cert=True):
    ctx = ssl.create_default_context(cafile=os.environ["CA"])
    ctx.check_hostname = False
    if with_cert:
        ctx.load_cert_chain(os.environ["CERT"], os.environ["KEY"])
    return connect(4128, ctx)


def hello(role):
    return msg(1, attr(1, b"\1") + attr(2, b"\1") + attr(3, bytes([role])))


HELLO = hello(2)
GATEWAY_HELLO = hello(1)


def login(sock, user, password):
    sock.sendall(HELLO)
    recv_msg(sock)
    sock.sendall(msg(32, attr(11, b"PLAIN") + attr(13, b"\0" + user + b"\0" + password)))
    kind, body = recv_msg(sock)
    return kind == 34 and body[4] == 0        # AUTH_RESULT, RESULT ok


def idle(n, seconds):
    held = []
    for _ in range(n):
        try:
            held.append(connect())      # a refused link fails its handshake
        except (ssl.SSLError, OSError):
            pass
    print("holding", len(held), "of", n, flush=True)
    time.sleep(seconds)
    for s in held:
        s.close()


def badlogins(n, user):
    refused = 0
    for _ in range(n):
        s = connect_retry()
        try:
            if not login(s, user, b"not the password"):
                refused += 1
        except EOFError:
            refused += 1
        s.close()
    print("refused", refused, "of", n, flush=True)


def slow(seconds):
    s = connect_retry()
    for byte in HELLO[:seconds]:
        s.send(bytes([byte]))
        time.sleep(1)
    print("sent", min(seconds, len(HELLO)), "bytes", flush=True)
    s.close()


def stall(n, seconds):
    held = []
    for _ in range(n):
        raw = socket.socket()
        raw.bind((os.environ.get("SRC", "0.0.0.0"), 0))
        raw.connect((HOST, 4129))
        # A TLS record header and the start of a ClientHello, then silence.
        raw.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")
        held.append(raw)
    print("stalled", len(held), flush=True)
    time.sleep(seconds)
    for s in held:
        s.close()


def announce(user, password, saddr):
    s = connect()
    if not login(s, user, password):
        print("login failed")
        sys.exit(1)
    flow = bytes([4, 6]) + struct.pack(">HH", 41000, 80) + socket.inet_aton(saddr) \
        + socket.inet_aton("10.202.0.2")
    s.sendall(msg(48, attr(16, attr(6, flow))))
    time.sleep(1)
    print("announced", flush=True)
    s.close()


def login_once(user, password):
    start = time.monotonic()
    s = connect()
    s.sendall(HELLO)
    recv_msg(s)
    s.sendall(msg(32, attr(11, b"PLAIN") + attr(13, b"\0" + user + b"\0" + password)))
    kind, body = recv_msg(s)
    ms = int((time.monotonic() - start) * 1000)
    found = attrs(body)
    if kind == 34 and found.get(14) == b"\0":
        print("ok", ms, flush=True)
        time.sleep(0.2)
    else:
        print("refused %d: %s" % (ms, found.get(5, b"").decode(errors="replace")), flush=True)
    s.close()


def burst(n, parallel, user, password):
    import threading
    lock = threading.Lock()
    left = [n]
    ok = [0]

    def run():
        while True:
            with lock:
                if left[0] == 0:
                    return
                left[0] -= 1
            s = connect()
            try:
                good = login(s, user, password)
            except (EOFError, OSError):
                good = False
            s.close()
            if good:
                with lock:
                    ok[0] += 1

    start = time.monotonic()
    threads = [threading.Thread(target=run) for _ in range(parallel)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ms = (time.monotonic() - start) * 1000
    print("ok %d of %d in %d ms: %.0f logins/s" % (ok[0], n, ms, ok[0] * 1000 / ms),
          flush=True)


def after(sock, data):
    """Sends data, then reads until nuauth closes the link (5 s at most):
    "closed", with the text of the ERROR it sent first if any, or
    "still open"."""
    said = ""
    try:
        sock.sendall(data)
        sock.settimeout(5)
        while True:
            kind, body = recv_msg(sock)
            if kind == 2:
                said = " (ERROR: %s)" % attrs(body).get(5, b"").decode(errors="replace")
    except socket.timeout:
        return "still open"
    except (EOFError, OSError):
        return "closed" + said
    finally:
        sock.close()


def link_up(role, user=None, password=None):
    """A link that is in: a client's logged in as USER, or a gateway's
    (with CERT and KEY) past HELLO."""
    if role == "client":
        s = connect()
        if not login(s, user, password):
            sys.exit("login failed")
        return s
    s = gateway_connect()
    s.sendall(GATEWAY_HELLO)
    recv_msg(s)
    return s


def unknowntype(role, user=None, password=None):
    """A well-framed message of type 200 (no version knows it) on a link
    that is up, then KEEPALIVE id 9: "ignored" when nuauth echoes the
    KEEPALIVE (the link stays), else "closed".  On a client link before the
    login the same message must close the link (only login messages may
    come there)."""
    strange = msg(200, attr(5, b"from a newer peer"))
    s = link_up(role, user, password)
    s.sendall(strange + struct.pack(">BBHI", 1, 3, 8, 9))
    s.settimeout(5)
    try:
        while True:
            kind, body = recv_msg(s)
            if kind == 3:
                print("%s, logged in: ignored" % role, flush=True)
                break
    except (EOFError, OSError):
        sys.exit("%s, logged in: closed" % role)
    s.close()
    if role != "client":
        return
    s = connect()
    s.sendall(HELLO)
    recv_msg(s)
    result = after(s, strange)
    print("client, before the login: %s" % result, flush=True)
    sys.exit(0 if result.startswith("closed") else 1)


def badframes(role, user=None, password=None):
    # Only the header of the long ones: nuauth must refuse on the length
    # alone, not wait for a body.  The bad attribute (a client's CONN in an
    # ANNOUNCE, a gateway's FLOW in a PACKET_ASK) claims 40 bytes; 4 follow.
    kind, inner = (48, 16) if role == "client" else (16, 6)
    cases = [("length 16385", struct.pack(">BBHI", 1, kind, 16385, 0)),
             ("length 65535", struct.pack(">BBHI", 1, kind, 0xFFFF, 0)),
             ("malformed attribute", msg(kind, struct.pack(">HH", inner, 40) + bytes(4)))]
    ok = True
    for name, data in cases:
        result = after(link_up(role, user, password), data)
        ok = ok and result.startswith("closed")
        print("%s: %s" % (name, result), flush=True)
    sys.exit(0 if ok else 1)


def gwstats(hold):
    """GW_STATS (24) on gateway links past HELLO: without QUEUE (50), and
    with a counter of the wrong size, nuauth must close the link; a good
    one for queue 77 with every counter at 2^64-1 must leave it open.  The
    good link stays open (its counters in the metrics) hold seconds, or
    until the test ends the process."""
    top = struct.pack(">Q", 2 ** 64 - 1)
    counters = b"".join(attr(k, top) for k in range(51, 59))
    cases = [("no QUEUE", msg(24, counters), "closed"),
             ("a 7-byte counter", msg(24, attr(50, struct.pack(">I", 77)) + attr(51, bytes(7))),
              "closed"),
             ("queue 77, every counter 2^64-1",
              msg(24, attr(50, struct.pack(">I", 77)) + counters), "still open")]
    ok = True
    for name, data, want in cases:
        s = gateway_connect()
        s.sendall(GATEWAY_HELLO)
        recv_msg(s)
        if want == "still open":
            s.sendall(data)
            s.sendall(msg(3))                   # KEEPALIVE: answered when the link lives
            s.settimeout(5)
            try:
                kind, _ = recv_msg(s)
                result = "still open" if kind == 3 else "closed"
            except (EOFError, OSError):
                result = "closed"
            print("%s: %s" % (name, result), flush=True)
            ok = ok and result == want
            if ok:
                time.sleep(hold)                # while the test scrapes
            s.close()
        else:
            result = after(s, data)
            print("%s: %s" % (name, result), flush=True)
            ok = ok and result.startswith(want)
    sys.exit(0 if ok else 1)


def nocert():
    try:
        result = after(gateway_connect(with_cert=False), GATEWAY_HELLO)
    except (ssl.SSLError, OSError) as e:    # refused in the handshake
        result = "closed (%s)" % e
    print(result, flush=True)
    sys.exit(0 if result.startswith("closed") else 1)


def gwcert(port):
    """A gateway showing CERT and KEY (which nufw itself would not use: an
    expired one) on nuauth's gateway port PORT: "closed" when refused."""
    ctx = ssl.create_default_context(cafile=os.environ["CA"])
    ctx.check_hostname = False
    ctx.load_cert_chain(os.environ["CERT"], os.environ["KEY"])
    try:
        result = after(connect(port, ctx), GATEWAY_HELLO)
    except (ssl.SSLError, OSError) as e:    # refused in the handshake
        result = "closed (%s)" % e
    print(result, flush=True)
    sys.exit(0 if result.startswith("closed") else 1)


def scramfirst(user):
    s = connect()
    s.sendall(HELLO)
    recv_msg(s)
    first = b"n,,n=" + user + b",r=0123456789abcdef0123"
    s.sendall(msg(32, attr(11, b"SCRAM-SHA-256") + attr(13, first)))
    kind, body = recv_msg(s)
    found = attrs(body)
    if kind == 33:      # AUTH_STEP: r=...,s=...,i=...
        fields = dict(f.split(b"=", 1) for f in found.get(13, b"").split(b",") if b"=" in f)
        print("step i=%s s=%s" % (fields.get(b"i", b"?").decode(), fields.get(b"s", b"?").decode()),
              flush=True)
    else:
        print("result %d: %s" % (found.get(14, b"\xff")[0],
                                 found.get(5, b"").decode(errors="replace")), flush=True)
    s.close()


ATTR_NOT_MINE = 40


def flow4(saddr, sport, daddr, dport):
    return bytes([4, 6]) + struct.pack(">HH", sport, dport) + socket.inet_aton(saddr) \
        + socket.inet_aton(daddr)


def flow_text(value):
    if len(value) != 14:
        return value.hex()
    sport, dport = struct.unpack(">HH", value[2:6])
    return "%s:%d->%s:%d" % (socket.inet_ntoa(value[6:10]), sport,
                             socket.inet_ntoa(value[10:14]), dport)


def claimer(user, password, saddr, lo, hi, daddr, dport, answer):
    import select
    import signal
    s = connect()
    if not login(s, user, password):
        print("login failed", flush=True)
        sys.exit(1)
    # CONN attributes of every flow of the range, in ANNOUNCEs that fit
    # 16384 bytes (22 bytes each).
    conns = [attr(16, attr(6, flow4(saddr, p, daddr, dport))) for p in range(lo, hi + 1)]
    batches = [msg(48, b"".join(conns[i:i + 700])) for i in range(0, len(conns), 700)]
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    print("logged in", flush=True)
    buf = b""
    next_round = 0.0
    s.setblocking(False)
    while not stop:
        now = time.monotonic()
        if now >= next_round:
            for b in batches:
                s.setblocking(True)
                s.sendall(b)
                s.setblocking(False)
            next_round = now + 0.5
        if not s.pending():     # bytes TLS already decrypted come first
            try:
                ready = select.select([s], [], [], max(0.0, next_round - time.monotonic()))
            except InterruptedError:
                continue
            if not ready[0]:
                continue
        try:
            chunk = s.recv(65536)
        except (ssl.SSLWantReadError, BlockingIOError):
            continue
        if not chunk:
            print("closed by nuauth", flush=True)
            sys.exit(1)
        buf += chunk
        while len(buf) >= 8:
            _, kind, length, _ = struct.unpack(">BBHI", buf[:8])
            if len(buf) < length:
                break
            body, buf = buf[8:length], buf[length:]
            if kind != 49:          # PUSH
                continue
            value = attrs(body).get(6)
            if value is None:
                continue
            print("push", flow_text(value), flush=True)
            reply = None
            if answer == "claim":
                reply = msg(48, attr(16, attr(6, value)))
            elif answer == "notmine":
                reply = msg(48, attr(ATTR_NOT_MINE, value))
            if reply:
                s.setblocking(True)
                s.sendall(reply)
                s.setblocking(False)
    s.setblocking(True)
    s.sendall(msg(36))              # LOGOUT
    print("logged out", flush=True)
    try:
        s.settimeout(5)
        while s.recv(65536):
            pass
    except (OSError, socket.timeout):
        pass
    s.close()


def plaintime(n, users):
    """The users' logins take turns, so that a load that comes and goes
    on the machine weighs on each of them alike."""
    times = {u: [] for u in users}
    refused = {u: 0 for u in users}
    text = {u: "" for u in users}
    for _ in range(n):
        for user in users:
            s = connect()
            s.sendall(HELLO)
            recv_msg(s)
            start = time.perf_counter()
            s.sendall(msg(32, attr(11, b"PLAIN") + attr(13, b"\0" + user + b"\0wrong password")))
            kind, body = recv_msg(s)
            times[user].append((time.perf_counter() - start) * 1000)
            found = attrs(body)
            if kind == 34 and found.get(14) != b"\0":
                refused[user] += 1
            text[user] = found.get(5, b"").decode(errors="replace")
            s.close()
    for user in users:
        t = sorted(times[user])
        print("mean %.2f median %.2f refused %d of %d: %s"
              % (sum(t) / n, t[n // 2], refused[user], n, text[user]), flush=True)


def early():
    ok = True
    for name, before in [("KEEPALIVE before HELLO", b""), ("KEEPALIVE before the login", HELLO)]:
        s = connect()
        if before:
            s.sendall(before)
            recv_msg(s)
        result = after(s, struct.pack(">BBHI", 1, 3, 8, 7))
        ok = ok and result.startswith("closed")
        print("%s: %s" % (name, result), flush=True)
    sys.exit(0 if ok else 1)


def sessions(n, user, password):
    held, refused, text = [], 0, ""
    for _ in range(n):
        s = connect_retry()
        s.sendall(HELLO)
        recv_msg(s)
        s.sendall(msg(32, attr(11, b"PLAIN") + attr(13, b"\0" + user + b"\0" + password)))
        kind, body = recv_msg(s)
        found = attrs(body)
        if kind == 34 and found.get(14) == b"\0":
            held.append(s)
        else:
            refused += 1
            text = found.get(5, b"").decode(errors="replace")
            s.close()
    print("logged in %d, refused %d: %s" % (len(held), refused, text), flush=True)
    for s in held:
        s.close()


def full_announce(saddr, first_port):
    """An ANNOUNCE as large as a message may be: 744 CONNs of a FLOW each."""
    conns = b""
    port = first_port
    while 8 + len(conns) + 22 <= 16384:
        flow = bytes([4, 6]) + struct.pack(">HH", port, 80) + socket.inet_aton(saddr) \
            + socket.inet_aton("10.202.0.2")
        conns += attr(16, attr(6, flow))
        port = port % 60000 + 1024
    return msg(48, conns)


def flood(user, password, saddr, seconds):
    import threading
    deadline = time.monotonic() + seconds
    counts = {"announces": 0, "conns": 0, "relogins": 0, "garbage": 0, "oversized": 0,
              "early": 0, "oversized_logged_in": 0}
    announces = [full_announce(saddr, 1024 + k * 744) for k in range(8)]
    conns_each = (len(announces[0]) - 8) // 22
    started = threading.Event()

    def announcer():
        k = 0
        while time.monotonic() < deadline:
            try:
                s = connect()
                if not login(s, user, password):
                    time.sleep(0.1)
                    continue
                s.settimeout(2)
                while time.monotonic() < deadline:
                    s.sendall(announces[k % len(announces)])
                    k += 1
                    counts["announces"] += 1
                    counts["conns"] += conns_each
                    started.set()
                s.close()
            except (ssl.SSLError, OSError, EOFError):
                counts["relogins"] += 1

    def closes(data, tls=True, logged_in=False):
        s = None
        try:
            if tls:
                s = connect()
                if logged_in and not login(s, user, password):
                    s.close()
                    return
            else:
                s = socket.socket()
                s.bind((os.environ.get("SRC", "0.0.0.0"), 0))
                s.settimeout(2)
                s.connect((HOST, 4129))
            s.sendall(data)
            s.settimeout(2)
            while s.recv(4096):
                pass
        except (ssl.SSLError, OSError, EOFError):
            pass
        finally:
            if s:
                s.close()

    def garbage():
        junk = bytes(range(256)) * 4
        next_login = time.monotonic()
        while time.monotonic() < deadline:
            closes(junk, tls=False)
            counts["garbage"] += 1
            closes(struct.pack(">BBHI", 1, 48, 0xFFFF, 0))
            counts["oversized"] += 1
            closes(struct.pack(">BBHI", 1, 3, 8, 1))
            counts["early"] += 1
            if time.monotonic() >= next_login:
                closes(struct.pack(">BBHI", 1, 48, 0xFFFF, 0), logged_in=True)
                counts["oversized_logged_in"] += 1
                next_login += 5

    threads = [threading.Thread(target=announcer), threading.Thread(target=garbage)]
    for t in threads:
        t.start()
    if started.wait(10):
        print("flooding", flush=True)
    for t in threads:
        t.join()
    print("flood: %(announces)d ANNOUNCEs (%(conns)d CONNs), %(relogins)d relogins, "
          "%(garbage)d garbage links, %(oversized)d oversized frames before HELLO, "
          "%(early)d KEEPALIVEs before HELLO, %(oversized_logged_in)d oversized frames "
          "after login" % counts + " in %d s" % seconds, flush=True)


cmd = sys.argv[1]
if cmd == "idle":
    idle(int(sys.argv[2]), int(sys.argv[3]))
elif cmd == "badlogins":
    badlogins(int(sys.argv[2]), sys.argv[3].encode())
elif cmd == "slow":
    slow(int(sys.argv[2]))
elif cmd == "stall":
    stall(int(sys.argv[2]), int(sys.argv[3]))
elif cmd == "announce":
    announce(sys.argv[2].encode(), sys.argv[3].encode(), sys.argv[4])
elif cmd == "burst":
    burst(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4].encode(), sys.argv[5].encode())
elif cmd == "badframes" and sys.argv[2] == "client":
    badframes("client", sys.argv[3].encode(), sys.argv[4].encode())
elif cmd == "badframes" and sys.argv[2] == "gateway":
    badframes("gateway")
elif cmd == "unknowntype" and sys.argv[2] == "client":
    unknowntype("client", sys.argv[3].encode(), sys.argv[4].encode())
elif cmd == "unknowntype" and sys.argv[2] == "gateway":
    unknowntype("gateway")
elif cmd == "nocert":
    nocert()
elif cmd == "gwcert":
    gwcert(int(sys.argv[2]))
elif cmd == "gwstats":
    gwstats(int(sys.argv[2]))
elif cmd == "scramfirst":
    scramfirst(sys.argv[2].encode())
elif cmd == "claimer":
    claimer(sys.argv[2].encode(), sys.argv[3].encode(), sys.argv[4], int(sys.argv[5]),
            int(sys.argv[6]), sys.argv[7], int(sys.argv[8]), sys.argv[9])
elif cmd == "plaintime":
    plaintime(int(sys.argv[2]), [u.encode() for u in sys.argv[3:]])
elif cmd == "early":
    early()
elif cmd == "sessions":
    sessions(int(sys.argv[2]), sys.argv[3].encode(), sys.argv[4].encode())
elif cmd == "flood":
    flood(sys.argv[2].encode(), sys.argv[3].encode(), sys.argv[4], int(sys.argv[5]))
elif cmd == "login":
    login_once(sys.argv[2].encode(), sys.argv[3].encode())
else:
    sys.exit("usage: see the file's docstring")
