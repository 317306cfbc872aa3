"""MiniStack, as local/emulator.ts runs it (emulator only; never used against AWS).

One thing on top of `ministack`: a watchdog. When its stdin reaches EOF, i.e. when the Node
process that owns the pipe is gone, however it died (even SIGKILL), it kills its whole
process group: itself and the `node` processes it runs the functions in (they inherit the
group; local/emulator.ts starts this script as a group of its own). So no emulator and no
function is left orphaned. MiniStack has no such option of its own.

And one correction, which matters only with IAM enforced (AUTH=true): SQS authorizes its
batch calls by the action of the single call (`SendMessageBatch` needs `sqs:SendMessage`,
and so on: there are no `sqs:*Batch` IAM actions), while MiniStack 1.5.33 checks an action
named after the call, which no policy grants. The mapping below restores AWS's rule.

Everything else is configured by the environment local/emulator.ts passes (GATEWAY_PORT,
BIND_HOST, AUTH, USE_SSL, ...).
"""
import os
import shutil
import signal
import sys
import threading


def _watch_stdin() -> None:
    # os.read on the raw fd: a thread blocked in sys.stdin's buffered reader holds its lock,
    # which makes a SIGTERM'd interpreter abort at shutdown.
    try:
        while os.read(0, 4096):
            pass
    finally:
        try:
            # The scratch directory local/emulator.ts made for this run (its owner is gone).
            shutil.rmtree(os.environ.get("TIDEMARK_EMULATOR_TMP", ""), ignore_errors=True)
            os.killpg(os.getpgid(0), signal.SIGKILL)
        finally:
            os._exit(0)


threading.Thread(target=_watch_stdin, daemon=True).start()

from ministack.core import iam_actions  # noqa: E402  (after the watchdog: imports take a while)

# The IAM action AWS checks for each SQS batch call.
_AUTHORIZED_AS = {
    "sqs:SendMessageBatch": "sqs:SendMessage",
    "sqs:DeleteMessageBatch": "sqs:DeleteMessage",
    "sqs:ChangeMessageVisibilityBatch": "sqs:ChangeMessageVisibility",
}
_extract_iam_action = iam_actions.extract_iam_action


def _extract_authorized_action(*args, **kwargs):
    action = _extract_iam_action(*args, **kwargs)
    return _AUTHORIZED_AS.get(action, action)


# MiniStack imports the function where it checks a request, so this replaces every use.
iam_actions.extract_iam_action = _extract_authorized_action

from ministack.app import main  # noqa: E402

sys.argv = ["ministack"]
sys.exit(main())
