"""moto in server mode, as local/emulator.ts runs it (emulator only; never used against AWS).

Three things on top of `moto_server`:

1. A watchdog: the process exits when its stdin reaches EOF, i.e. when the Node process that
   owns the pipe is gone, however it died (even SIGKILL), so no emulator is left orphaned.

2. Atomic requests. moto serves each request on its own thread and checks conditions without
   a lock: DynamoDB `attribute_not_exists` puts, S3 `If-None-Match: *` and SQS FIFO group
   locking are check-then-write, so two racing writers can both "win" (measured: about 1
   race in 100 for three writers of one DynamoDB item). AWS makes these atomic, and Tidemark's
   exactly-once argument rests on it. Here every request of one service runs under that
   service's lock, which gives AWS's atomicity. Only SQS long polls (WaitTimeSeconds > 0) run
   unlocked, since they wait for other requests to send; the adapters do not long-poll by
   default.

3. FIFO redelivery in order. When several messages of one group were in flight and their
   visibility timeout expires, moto 5.2.5's receive_message releases them one at a time while
   it iterates, and skips the first one because its group still looks "pending" (the later
   ones are not released yet): it then delivers m2, m3, … before m1, which SQS never does.
   Releasing every expired message before the iteration keeps the group's order.
"""
import io
import json
import os
import re
import sys
import threading
from collections import defaultdict


def _watch_stdin() -> None:
    # os.read on the raw fd: a thread blocked in sys.stdin's buffered reader holds its lock,
    # which makes a SIGTERM'd interpreter abort at shutdown.
    try:
        while os.read(0, 4096):
            pass
    finally:
        os._exit(0)


threading.Thread(target=_watch_stdin, daemon=True).start()

import moto.server  # noqa: E402  (after the watchdog: importing moto takes a while)
from moto.moto_server.werkzeug_app import DomainDispatcherApplication  # noqa: E402

_SCOPE = re.compile(r"Credential=[^/,]*/[^/,]*/[^/,]*/([^/,]*)/")
_guard = threading.Lock()
_locks: "defaultdict[str, threading.Lock]" = defaultdict(threading.Lock)


def _lock_for(service: str) -> threading.Lock:
    with _guard:
        return _locks[service]


def _is_long_poll(environ) -> bool:
    if environ.get("HTTP_X_AMZ_TARGET") != "AmazonSQS.ReceiveMessage":
        return False
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    environ["wsgi.input"] = io.BytesIO(body)  # put back what was read, for moto
    try:
        return int(json.loads(body or b"{}").get("WaitTimeSeconds") or 0) > 0
    except (ValueError, TypeError, AttributeError):
        return False


class SerializedApplication(DomainDispatcherApplication):
    def __call__(self, environ, start_response):
        match = _SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
        service = match.group(1) if match else ""
        if service == "sqs" and _is_long_poll(environ):
            return super().__call__(environ, start_response)
        with _lock_for(service):
            result = super().__call__(environ, start_response)
            try:
                return [b"".join(result)]  # the whole response is computed under the lock
            finally:
                close = getattr(result, "close", None)
                if close:
                    close()


def _release_expired_then_receive(original):
    def receive_message(self, queue_name, *args, **kwargs):
        queue = self.get_queue(queue_name)
        for message in list(queue.pending_messages):
            if message.visible:
                queue.pending_messages.remove(message)
        return original(self, queue_name, *args, **kwargs)

    return receive_message


from moto.sqs.models import SQSBackend  # noqa: E402

SQSBackend.receive_message = _release_expired_then_receive(SQSBackend.receive_message)
moto.server.DomainDispatcherApplication = SerializedApplication
moto.server.main(sys.argv[1:])
