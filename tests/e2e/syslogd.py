#!/usr/bin/env python3
"""The test's syslog daemon: receives the datagrams that syslog(3) sends to
a Unix socket (/dev/log in the program's mount namespace) and writes each
message to a file the way a syslog daemon's file shows it, with its
facility and severity:

    daemon.notice nuauth[1234]: userlog: user alice logged in from ...

    syslogd.py SOCKET FILE

Prints "ready" once the socket is bound; runs until it is ended."""
import os
import re
import socket
import sys

FACILITIES = ["kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news",
              "uucp", "cron", "authpriv", "ftp"] + ["local%d" % i for i in range(8)]
SEVERITIES = ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"]
# <PRI>, then the BSD timestamp syslog(3) writes ("Dec  7 06:59:01 ").
HEAD = re.compile(r"^<(\d+)>(?:[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d )?(.*)$", re.S)


def name(pri):
    fac, sev = divmod(pri, 8)
    fac_name = FACILITIES[fac] if fac < len(FACILITIES) else str(fac)
    return "%s.%s" % (fac_name, SEVERITIES[sev])


def main():
    path, out = sys.argv[1], sys.argv[2]
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    os.chmod(path, 0o666)
    print("ready", flush=True)
    with open(out, "a", buffering=1) as f:
        while True:
            data = sock.recv(65536).decode("utf-8", "replace").rstrip("\0\n")
            m = HEAD.match(data)
            if m:
                f.write("%s %s\n" % (name(int(m.group(1))), m.group(2)))
            else:
                f.write("? %s\n" % data)


if __name__ == "__main__":
    main()
