"""MiniStack, as local/emulator.ts runs it (emulator only; never used against AWS).

One thing on top of `ministack`: a watchdog. The process exits when its stdin reaches EOF,
i.e. when the Node process that owns the pipe is gone, however it died (even SIGKILL), so
no emulator is left orphaned. MiniStack has no such option of its own.

Everything else is configured by the environment local/emulator.ts passes (GATEWAY_PORT,
BIND_HOST, AUTH, ...); this script adds nothing to MiniStack's behaviour.
"""
import os
import sys
import threading


def _watch_stdin() -> None:
    # os.read on the raw fd: a thread blocked in sys.stdin's buffered reader holds its lock,
    # which makes a SIGTERM'd interpreter abort at shutdown.
    try:
        while os.read(0, 4096):
            pass
    finally:
        os._exit(0)


threading.Thread(target=_watch_stdin, daemon=True).start()

from ministack.app import main  # noqa: E402  (after the watchdog: the import takes a while)

sys.argv = ["ministack"]
sys.exit(main())
