#!/usr/bin/env python3
"""Runs a command on a terminal of its own and answers its prompt, as a
user at the keyboard would, for tests/e2e/client.sh.

    pty_prompt.py PROMPT ANSWER COMMAND...

Once PROMPT has shown and the terminal has stopped echoing (the command
turned echo off to read a password), types ANSWER and Enter.  Prints what
the terminal showed; exits with the command's status, or 3 when PROMPT did
not show or echo stayed on (10 s).
"""
import os
import pty
import select
import sys
import termios
import time

prompt, answer, cmd = sys.argv[1].encode(), sys.argv[2].encode(), sys.argv[3:]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(cmd[0], cmd)

shown = b""
typed = False
deadline = time.monotonic() + 10
while True:
    # On Linux the master reports the terminal's modes.
    if not typed and prompt in shown and not termios.tcgetattr(fd)[3] & termios.ECHO:
        os.write(fd, answer + b"\r")
        typed = True
    left = deadline - time.monotonic()
    if left <= 0:
        break
    ready, _, _ = select.select([fd], [], [], min(left, 0.02) if not typed else left)
    if not ready:
        continue
    try:
        chunk = os.read(fd, 4096)
    except OSError:         # EIO: every holder of the terminal closed it
        break
    if not chunk:
        break
    shown += chunk

sys.stdout.write(shown.decode(errors="replace"))
if not typed:
    os.kill(pid, 9)
_, status = os.waitpid(pid, 0)
sys.exit(3 if not typed else os.waitstatus_to_exitcode(status))
