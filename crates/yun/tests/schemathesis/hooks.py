"""schemathesis hooks for yun's fuzz test (crates/yun/tests/fuzz.rs).

They keep the fuzzer on the business logic (a runnable image, a pullable reference, the
renter's own login) and record every answer, so the Rust test can tell that each operation got
a 2xx and that the stateful phase ran. The one check added here lets only the designed 503s
through: a code that means "try again later", with Retry-After.
"""

import json
import os
import random
import threading

import schemathesis

IMAGE = os.environ["YUN_FUZZ_IMAGE"]
PULLABLE = os.environ["YUN_FUZZ_PULLABLE"]
PUBLISHABLE = os.environ["YUN_FUZZ_PUBLISHABLE"]
USERNAME = os.environ["YUN_FUZZ_USERNAME"]
PASSWORD = os.environ["YUN_FUZZ_PASSWORD"]
RECORD = os.environ["YUN_FUZZ_RECORD"]

DESIGNED_503 = {"no_capacity", "no_free_port", "node_unavailable", "no_ready_node", "shutting_down"}
_lock = threading.Lock()


def _label(ctx):
    op = getattr(ctx, "operation", None)
    return op.label if op is not None else ""


@schemathesis.check
def designed_unavailability(ctx, response, case):
    """A 503 must be one of the designed ones, and say when to come back."""
    if response.status_code != 503 or case.operation.path == "/readyz":
        return None
    try:
        code = json.loads(response.content)["error"]["code"]
    except Exception as exc:  # noqa: BLE001
        raise AssertionError(f"a 503 without the error envelope: {exc}")
    if code not in DESIGNED_503:
        raise AssertionError(f"503 with {code!r}, which is not a designed 'try again later'")
    if "retry-after" not in {k.lower() for k in response.headers}:
        raise AssertionError(f"503 {code} without Retry-After")
    return None


@schemathesis.hook
def map_body(ctx, body):
    label = _label(ctx)
    if not isinstance(body, dict) or random.random() < 0.3:
        return body
    if label == "POST /api/v1/containers":
        body["image"] = IMAGE
        # Most creates are kept runnable, so that the power actions meet a container: the
        # image's own command, a real plan, ports the node hands out.
        if random.random() < 0.7:
            for key in ("command", "plan", "env", "restart_policy", "name"):
                body.pop(key, None)
            if isinstance(body.get("ports"), list):
                body["ports"] = [{"container_port": 8080}] if body["ports"] else []
    elif label == "POST /api/v1/images/pull":
        body["reference"] = PULLABLE
    elif label == "POST /api/v1/admin/images":
        body["reference"] = PUBLISHABLE
    elif label == "POST /api/v1/auth/login":
        body["username"] = USERNAME
        body["password"] = PASSWORD
    elif label == "POST /api/v1/me/password":
        # The same password again: the change succeeds and the fuzzer's session stays.
        body["current_password"] = PASSWORD
        body["new_password"] = PASSWORD
    return body


@schemathesis.hook
def after_call(ctx, case, response):
    phase = getattr(getattr(case.meta, "phase", None), "name", None) if case.meta else None
    code = None
    if response.status_code >= 400:
        try:
            code = json.loads(response.content)["error"]["code"]
        except Exception:  # noqa: BLE001
            code = None
    line = json.dumps(
        {
            "operation": case.operation.label,
            "status": response.status_code,
            "code": code,
            "phase": str(phase.value if hasattr(phase, "value") else phase),
        }
    )
    with _lock, open(RECORD, "a") as f:
        f.write(line + "\n")
