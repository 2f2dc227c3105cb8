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
import re
import subprocess
import sys
import time

import websocket

DEADLINE = time.monotonic() + 60


class DevTools:
    """DevTools' WebSocket, through Debian's python3-websocket
    (websocket-client): JSON messages each way.  No Origin header: Chromium
    refuses a WebSocket from an origin it was not told to allow."""

    def __init__(self, url):
        self.ws = websocket.create_connection(url, timeout=30, suppress_origin=True)

    def send(self, text):
        self.ws.send(text)

    def recv(self):
        return json.loads(self.ws.recv())

    def close(self):
        self.ws.close()


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
        tab = Tab(DevTools(ws_url))
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
    except (RuntimeError, OSError, ValueError, KeyError, websocket.WebSocketException) as e:
        print("browse.py: %s" % e, file=sys.stderr)
        return 1
    finally:
        browser.kill()
        browser.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
