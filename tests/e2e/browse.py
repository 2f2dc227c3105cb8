#!/usr/bin/env python3
"""A user at a browser, for the lab: headless Chromium driven over its
DevTools protocol (the WebSocket it opens with --remote-debugging-port).

    browse.py SHOT DOM URL [USER PASSWORD] -- CHROMIUM_ARGS...

Opens URL in a new tab and waits for it to load; with USER and PASSWORD,
types them into the page's #user and #password fields and submits the
page's form, as a person would (the post is the page's own, same-origin),
and waits for the answer to load.  Then saves a screenshot (PNG) to SHOT
and the page's DOM to DOM.  Exit 0, or 1 with the reason on stderr.

Chromium is started by this script (in the caller's network namespace)
and ended by its PID, also on failure."""
import base64
import json
import os
import re
import socket
import struct
import subprocess
import sys
import time

DEADLINE = time.monotonic() + 60


class WebSocket:
    """The client side of RFC 6455, as much as DevTools needs: text
    messages, masked, possibly fragmented on the way in."""

    def __init__(self, url):
        m = re.match(r"ws://([^:/]+):(\d+)(/.*)", url)
        if not m:
            raise RuntimeError("not a ws:// URL: " + url)
        self.sock = socket.create_connection((m.group(1), int(m.group(2))), timeout=30)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(("GET %s HTTP/1.1\r\nHost: %s:%s\r\nUpgrade: websocket\r\n"
                           "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                           "Sec-WebSocket-Version: 13\r\n\r\n"
                           % (m.group(3), m.group(1), m.group(2), key)).encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise RuntimeError("DevTools closed during the handshake")
            head += chunk
        if not head.startswith(b"HTTP/1.1 101"):
            raise RuntimeError("DevTools refused the WebSocket: " + head.split(b"\r\n")[0].decode())
        self.buf = head.split(b"\r\n\r\n", 1)[1]

    def send(self, text):
        data = text.encode()
        mask = os.urandom(4)
        n = len(data)
        if n < 126:
            head = struct.pack(">BB", 0x81, 0x80 | n)
        elif n < 65536:
            head = struct.pack(">BBH", 0x81, 0x80 | 126, n)
        else:
            head = struct.pack(">BBQ", 0x81, 0x80 | 127, n)
        self.sock.sendall(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def _take(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise RuntimeError("DevTools closed the WebSocket")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def recv(self):
        message = b""
        while True:
            b0, b1 = self._take(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack(">H", self._take(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", self._take(8))[0]
            payload = self._take(n)
            if b0 & 0x0F == 0x8:
                raise RuntimeError("DevTools closed the WebSocket")
            if b0 & 0x0F in (0x9, 0xA):	# ping, pong: not DevTools' messages
                continue
            message += payload
            if b0 & 0x80:
                return json.loads(message)


class Tab:
    def __init__(self, ws):
        self.ws, self.next_id, self.events = ws, 0, []
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target,
                                 flatten=True)["sessionId"]
        self.call("Page.enable")

    def call(self, method, **params):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params}
        if getattr(self, "session", None):
            msg["sessionId"] = self.session
        self.ws.send(json.dumps(msg))
        while True:
            answer = self.ws.recv()
            if answer.get("id") == self.next_id:
                if "error" in answer:
                    raise RuntimeError("%s: %s" % (method, answer["error"].get("message")))
                return answer["result"]
            self.events.append(answer)

    def wait_event(self, method):
        while True:
            for i, e in enumerate(self.events):
                if e.get("method") == method:
                    del self.events[i]
                    return e
            if time.monotonic() > DEADLINE:
                raise RuntimeError("no %s within the deadline" % method)
            self.events.append(self.ws.recv())

    def evaluate(self, expression):
        return self.call("Runtime.evaluate", expression=expression,
                         returnByValue=True)["result"].get("value")


def main():
    args = sys.argv[1:]
    sep = args.index("--")
    mine, chromium_args = args[:sep], args[sep + 1:]
    shot, dom, url = mine[:3]
    login = mine[3:5]
    browser = subprocess.Popen(["chromium", "--remote-debugging-port=0"] + chromium_args +
                               ["about:blank"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
    try:
        ws_url = None
        for line in browser.stderr:
            m = re.search(r"DevTools listening on (ws://\S+)", line)
            if m:
                ws_url = m.group(1)
                break
        if not ws_url:
            raise RuntimeError("chromium did not open DevTools")
        tab = Tab(WebSocket(ws_url))
        tab.call("Page.navigate", url=url)
        tab.wait_event("Page.loadEventFired")
        if login:
            # Typed into the page's own fields and sent by its own form.
            tab.evaluate("document.getElementById('user').value = %s;"
                         "document.getElementById('password').value = %s;"
                         "document.getElementById('user').form.requestSubmit();"
                         % (json.dumps(login[0]), json.dumps(login[1])))
            tab.wait_event("Page.loadEventFired")
        png = tab.call("Page.captureScreenshot", format="png")["data"]
        with open(shot, "wb") as f:
            f.write(base64.b64decode(png))
        with open(dom, "w") as f:
            f.write(tab.evaluate("document.documentElement.outerHTML") or "")
    except (RuntimeError, OSError, ValueError, KeyError) as e:
        print("browse.py: %s" % e, file=sys.stderr)
        return 1
    finally:
        browser.kill()
        browser.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
