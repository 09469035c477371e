"""Starts "pods" fast: a clean interpreter that imports the pipeline image's stack once, then forks one
fresh child per task and runs the task's `python -m MODULE ARGS...` command in it.

Importing TensorFlow, TFX, TFMA and the KFP SDK takes 15-35 s per process on a CI machine, which two
pipeline runs of 11 tasks would pay 22 times. A forked child is still a process of its own (own pid,
memory, working directory, environment, stdout/stderr): nothing a task does reaches another, only what
the launcher stand-in copies through the object store. The only difference from `exec` is that the
imports are already done, so import-time behaviour is the zygote's; tests/e2e/kfp_backend.py still
`exec`s some tasks to cover the real start.

Protocol (one JSON object per line): the zygote writes {"ready", "threads"} once it has imported the
modules it was started with, and again after each {"preload": [modules]} the parent writes (so it can
start importing the stack before it knows every executor); the parent writes {"id", "module", "argv",
"cwd", "env", "log"} per task and the zygote answers {"id", "returncode"} when that child exits.
Single-threaded, so no lock is held across fork.

    python tests/e2e/pod_zygote.py MODULE_TO_PRELOAD...
"""

import contextlib
import importlib
import json
import os
import runpy
import selectors
import sys
import tempfile
import time
import traceback


def _child(request: dict) -> int:
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    tempfile.tempdir = None  # read TMPDIR again: the zygote's imports may have fixed it to its own
    log = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(log, 1)
    os.dup2(log, 2)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115  (fresh objects: no inherited lock)
    sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115
    sys.stdin = open(0, closefd=False)  # noqa: SIM115
    sys.argv = [request["module"], *request["argv"]]
    try:
        runpy.run_module(request["module"], run_name="__main__", alter_sys=True)
        return 0
    except SystemExit as exc:
        code = exc.code
        if code is None:
            return 0
        if isinstance(code, int):
            return code
        print(code, file=sys.stderr)
        return 1
    except BaseException:  # the task's own failure: reported as a nonzero exit, as python would
        traceback.print_exc()
        return 1


def _import(modules: list[str], out) -> None:
    import threading

    for module in modules:
        importlib.import_module(module)
    # Threads do not survive fork; one holding a lock would hang the child. Reported for the test to check.
    out.write(json.dumps({"ready": True, "threads": [t.name for t in threading.enumerate()]}) + "\n")
    out.flush()


def main() -> None:
    out = sys.stdout
    _import(sys.argv[1:], out)
    children: dict[int, str] = {}
    selector = selectors.DefaultSelector()
    selector.register(sys.stdin, selectors.EVENT_READ)
    stdin_open = True
    while stdin_open or children:
        if stdin_open and selector.select(timeout=0.2):
            line = sys.stdin.readline()
            if not line:
                stdin_open = False
                continue
            request = json.loads(line)
            if "preload" in request:
                _import(request["preload"], out)
                continue
            pid = os.fork()
            if pid == 0:
                code = 1
                try:
                    code = _child(request)
                finally:
                    for stream in (sys.stdout, sys.stderr):
                        with contextlib.suppress(OSError):  # exiting anyway
                            stream.flush()
                    os._exit(code if 0 <= code < 256 else 1)
            children[pid] = request["id"]
        elif not stdin_open:
            time.sleep(0.2)
        while children:
            pid, status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                break
            out.write(json.dumps({"id": children.pop(pid), "returncode": os.waitstatus_to_exitcode(status)}) + "\n")
            out.flush()


if __name__ == "__main__":
    main()
