"""grader.sandbox: every way a call can end comes back as an Outcome, and the grader side trusts no frame."""
import json
import os
import struct
import time

import numpy as np
import pytest

from conftest import processes_with

from grader import doctor, jail, sandbox, wire
from grader.provided import PROJECT_DIR
from grader.sandbox import ForkServer

NOBODY = (65534, 65534)


def run(forkserver, source, *args, name="f", stubs=None, callbacks=None, timeout=None, **options):
    """Load `source` into a fresh sandbox and call `name`; returns (load outcome, call outcome)."""
    box = forkserver.spawn()
    try:
        loaded = box.load(name, source, 0, stubs)
        if not loaded.ok:
            return loaded, loaded
        return loaded, box.call(name, args, callbacks=callbacks, timeout=timeout, **options)
    finally:
        box.close()


def frame(message: dict) -> str:
    """Source text of a function that writes `message` as a raw frame into the grader's channel, then waits."""
    body = json.dumps(message).encode()
    return (f"import os, stat, time\ndef f():\n"
            f"    channel = next(fd for fd in range(64) if _socket(fd))\n"
            f"    os.write(channel, {struct.pack('>I', len(body)) + body!r})\n"
            f"    time.sleep(0.3)\n    return 1.0\n"
            f"def _socket(fd):\n    try:\n        return stat.S_ISSOCK(os.fstat(fd).st_mode)\n"
            f"    except OSError:\n        return False\n")


# -- values -------------------------------------------------------------------------------------------

def test_value_comes_back_as_plain_data_with_its_output(forkserver):
    _, outcome = run(forkserver, "import numpy as np\ndef f(x):\n    print('hi')\n    return {'a': np.eye(2) * x}\n", 3.0)
    assert outcome.kind == "value" and outcome.output == "hi\n"
    assert np.array_equal(outcome.value["a"], 3 * np.eye(2))


def test_arguments_after_the_call_show_in_place_changes(forkserver):
    _, outcome = run(forkserver, "def f(a):\n    a[0] = 9.0\n    return 0.0\n", np.zeros(2), return_args=True)
    assert outcome.ok and outcome.args_after[0][0] == 9.0


def test_top_level_error_is_a_problem_not_a_failure(forkserver):
    loaded, outcome = run(forkserver, "1 / 0\ndef f():\n    return 1.0\n")
    assert loaded.ok and outcome.value == 1.0
    assert loaded.value == [{"exc_type": "ZeroDivisionError", "message": "division by zero", "line": 1}]


# -- raised -------------------------------------------------------------------------------------------

def test_raised_keeps_type_message_and_only_the_learners_lines(forkserver):
    _, outcome = run(forkserver, "def f():\n    x = 1\n    raise ValueError('bad shape')\n")
    assert (outcome.kind, outcome.exc_type, outcome.message, outcome.line) == ("raised", "ValueError", "bad shape", 3)
    assert "<cell 1>" in outcome.traceback and "sandbox_child" not in outcome.traceback


def test_not_implemented_is_its_own_kind(forkserver):
    assert run(forkserver, "def f():\n    raise NotImplementedError\n")[1].kind == "not_implemented"


def test_exception_with_a_broken_str_is_still_reported(forkserver):
    source = "class Nasty(Exception):\n    def __str__(self):\n        raise RuntimeError('no')\ndef f():\n    raise Nasty()\n"
    outcome = run(forkserver, source)[1]
    assert outcome.kind == "raised" and outcome.exc_type == "Nasty"


def test_memory_error_says_memory(forkserver):
    outcome = run(forkserver, "def f():\n    return bytearray(4 << 30)\n")[1]
    assert outcome.kind == "memory" and outcome.exc_type == "MemoryError"


def test_recursion_error_says_recursion(forkserver):
    outcome = run(forkserver, "def f(n=0):\n    return f(n + 1)\n")[1]
    assert outcome.kind == "recursion"


# -- timeout, exit, crash -----------------------------------------------------------------------------

def test_endless_loop_times_out_and_the_sandbox_is_gone(forkserver):
    box = forkserver.spawn()
    box.load("f", "def f():\n    while True:\n        pass\n", 0)
    started = time.monotonic()
    outcome = box.call("f", timeout=1.5)
    assert outcome.kind == "timeout" and outcome.fatal and time.monotonic() - started < 3
    assert outcome.message.startswith("stopped after 2 s")
    assert box.call("f") is outcome  # a dead sandbox answers with how it died
    box.close()


def test_timeout_default_comes_from_the_graders_environment(monkeypatch):
    for given, expected in (("3", 3.0), ("0", 1.0), ("1e9", 600.0), ("nan", 10.0), ("soon", 10.0)):
        monkeypatch.setenv("GCGRADE_CALL_TIMEOUT", given)
        assert sandbox._call_timeout() == expected
    monkeypatch.delenv("GCGRADE_CALL_TIMEOUT")
    assert sandbox._call_timeout() == 10.0


def test_sys_exit_is_named(forkserver):
    outcome = run(forkserver, "import sys\ndef f():\n    sys.exit(3)\n")[1]
    assert outcome.kind == "exited" and outcome.message == "your code called exit(3)"


def test_os_exit_ends_the_process_and_says_so(forkserver):
    outcome = run(forkserver, "import os\ndef f():\n    os._exit(7)\n")[1]
    assert outcome.kind == "exited" and "os._exit(7)" in outcome.message and outcome.fatal


def test_segfault_is_a_crash(forkserver):
    outcome = run(forkserver, "import ctypes\ndef f():\n    return ctypes.string_at(0)\n")[1]
    assert outcome.kind == "crashed" and "segmentation fault" in outcome.message


def test_children_die_with_the_sandbox(forkserver):
    marker = f"gcgrade-child-{os.getpid()}-{time.monotonic_ns()}"
    source = (f"import os\ndef f():\n    if os.fork() == 0:\n        os.setsid()\n"
              f"        os.execv('/bin/sleep', [{marker!r}, '1000'])\n    return 1.0\n")
    assert run(forkserver, source)[1].ok
    time.sleep(0.2)
    assert not processes_with(marker)


# -- callbacks ----------------------------------------------------------------------------------------

STUBS = {"helper": ["x", "theta"]}


def test_callback_answers_the_stub_in_the_grader_process(forkserver):
    outcome = run(forkserver, "def f():\n    return helper(2.0, theta=3)\n", stubs=STUBS,
                  callbacks={"helper": lambda x, theta: x * theta + os.getpid()})[1]
    assert outcome.value == 6.0 + os.getpid()


@pytest.mark.parametrize("call, words", [
    ("helper([0] * 1000, 10 ** 6)", "takes numbers or numpy arrays of numbers, not list"),
    ("helper('x', 10 ** 9)", "not str"),
    ("helper(np.ones((400, 1)), np.ones((1, 400)))", "at most 100000 numbers"),
    ("nothere(1, 2)", "not available here"),
])
def test_callback_refuses_what_could_blow_up_the_grader(forkserver, call, words):
    source = f"import numpy as np\ndef f():\n    return {call}\n"
    stubs = dict(STUBS, nothere=["x", "theta"])
    outcome = run(forkserver, source, stubs=stubs, callbacks={"helper": lambda x, theta: x * theta})[1]
    assert outcome.kind == "raised" and words in outcome.message


def test_callback_helper_error_reaches_the_learner_as_an_error(forkserver):
    def broken(x, theta):
        raise ArithmeticError("no")
    outcome = run(forkserver, "def f():\n    return helper(1, 2)\n", stubs=STUBS, callbacks={"helper": broken})[1]
    assert outcome.kind == "raised" and "ArithmeticError: no" in outcome.message


# -- not plain data -----------------------------------------------------------------------------------

@pytest.mark.parametrize("expression, words", [
    ("(i for i in range(3))", "generator"),
    ("np", "module"),
    ("np.array([object()])", "dtype object"),
    ("type('Lying', (float,), {'__eq__': lambda s, o: True})(1.0)", "Lying"),
    ("Bomb()", "Bomb"),
    ("10 ** 400", "integer of 1329 bits"),
    ("'\\udcff'", "not valid Unicode"),
    ("np.zeros(10 ** 7)", "10000000 elements"),
    ("nested(100)", "nested more than 32 levels"),
    ("[0.0] * 200_000", "more than 100000 entries"),
])
def test_non_plain_values_are_refused_by_name(forkserver, expression, words):
    source = ("import numpy as np, os\nclass Bomb:\n    def __reduce__(self):\n        return (os.system, ('true',))\n"
              "def nested(n):\n    value = []\n    for _ in range(n):\n        value = [value]\n    return value\n"
              f"def f():\n    return {expression}\n")
    outcome = run(forkserver, source)[1]
    assert outcome.kind == "not_plain_data" and words in outcome.message


# -- frames the learner forges or garbles -------------------------------------------------------------

@pytest.mark.parametrize("message, kind", [
    ({"op": "ended", "signal": "x"}, "exited"),
    ({"op": "ended", "code": "<script>" * 10000}, "exited"),
    ({"op": "ended", "signal": 11}, "crashed"),
    ({"op": "callback", "name": ["unhashable"], "args": {"l": []}}, "value"),
    ({"status": "value", "value": {"a": ["<f8", [0, 10 ** 30], ""]}}, "not_plain_data"),
    ({"status": "value", "value": {"a": ["<f8", [1], "\u00e9"]}}, "not_plain_data"),
    ({"status": "value", "value": {"d": {"\ud800": 1}}}, "not_plain_data"),
    ({"status": "raised", "message": ["not", "text"], "line": "x", "duration": -5}, "raised"),
    ({"status": "something else"}, "protocol"),
    ({"op": "hijack"}, "protocol"),
])
def test_forged_frames_end_as_outcomes_never_exceptions(forkserver, message, kind):
    outcome = run(forkserver, frame(message), timeout=8)[1]
    assert outcome.kind == kind
    assert len(outcome.message) < 600 and "<script>" not in outcome.message
    assert outcome.line == 0 and outcome.duration >= 0


def test_forged_load_problems_are_reshaped_for_the_grader(forkserver):
    message = {"status": "value", "value": {"l": [1, {"d": {"exc_type": {"l": []}, "message": "\u001b[2J"}}]}}
    box = forkserver.spawn()
    loaded = box.load("f", frame(message).replace("def f():", "def g():") + "g()\ndef f():\n    return 1\n", 0)
    box.close()
    assert loaded.ok
    assert loaded.value == [{"exc_type": "an error", "message": "", "line": 0},
                            {"exc_type": "an error", "message": "\\x1b[2J", "line": 0}]


def test_garbage_in_the_channel_is_a_protocol_error(forkserver):
    outcome = run(forkserver, "import os\ndef f():\n    os.write(3, b'\\xff' * 64)\n    return 1\n", timeout=5)[1]
    assert outcome.kind == "protocol" and "wrote into the grader's channel" in outcome.message


def test_a_frame_trickled_byte_by_byte_still_times_out_on_time(forkserver):
    source = ("import os, struct, time\ndef f():\n    os.write(3, struct.pack('>I', 1000) + b'{')\n"
              "    for _ in range(20):\n        time.sleep(0.4)\n        os.write(3, b' ')\n")
    started = time.monotonic()
    outcome = run(forkserver, source, timeout=2)[1]
    assert outcome.kind == "timeout" and time.monotonic() - started < 4


def test_printed_text_is_capped_escaped_and_valid_unicode(forkserver):
    source = "def f():\n    print('\\udcff\\x1b[31m<b>' + 'x' * 100_000)\n    return 1.0\n"
    outcome = run(forkserver, source)[1]
    assert outcome.output.startswith("\\udcff\\x1b[31m<b>xxx") and "more characters not shown" in outcome.output
    assert len(outcome.output) < sandbox.TEXT_CAP["output"] + 100
    outcome.output.encode("utf-8")


def test_a_cell_too_large_to_send_is_refused_not_raised(forkserver):
    box = forkserver.spawn()
    loaded = box.load("f", "x = 1\n" + "#" * (wire.MAX_FRAME + 10) + "\ndef f():\n    return 1\n", 0)
    alive = box.load("f", "def f():\n    return 2\n", 0).ok and box.call("f").value == 2
    box.close()
    assert loaded.kind == "not_plain_data" and "could not be sent to the sandbox" in loaded.message and alive


def test_exit_code_of_any_kind_is_shown_briefly(forkserver):
    outcome = run(forkserver, "import sys\ndef f():\n    sys.exit(['x'] * 10 ** 6)\n")[1]
    assert outcome.kind == "exited" and outcome.message == "your code called exit('list')"


# -- protections --------------------------------------------------------------------------------------

def test_protections_are_all_in_force_as_root(forkserver):
    box = forkserver.spawn()
    found = box.protections()
    box.close()
    assert found["missing"] == []
    text = " ".join(found["applied"])
    for words in ("PID namespace", "no network", "only system folders are visible", "private /tmp",
                  "/proc shows only", "unprivileged user 61000", "no namespaces of its own", "no capabilities",
                  "no new privileges"):
        assert words in text


def test_the_fork_server_never_imports_the_checks_or_the_solutions(forkserver):
    source = ("import sys\ndef f():\n"
              "    return sorted(m for m in sys.modules if m.split('.')[0] in ('solutions', 'grader', 'pytest'))\n")
    loaded = ["grader", "grader.jail", "grader.provided", "grader.sandbox_child", "grader.wire"]
    assert run(forkserver, source)[1].value == loaded


LOOK_AROUND = f"""
import ctypes, os
def f():
    seen = {{}}
    seen["uid"] = os.getuid()
    seen["project"] = os.path.exists({str(PROJECT_DIR)!r})
    seen["processes"] = sorted(p for p in os.listdir("/proc") if p.isdigit())
    seen["umount"] = ctypes.CDLL(None).umount2(b"/tmp", 2)
    seen["unshare"] = ctypes.CDLL(None).unshare(0x10000000)
    seen["capabilities"] = [l.split()[1] for l in open("/proc/self/status") if l.startswith("CapEff")]
    return seen
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="switching the fork server to another user needs root")
def test_an_unprivileged_grader_gets_a_user_namespace_and_the_same_walls():
    with ForkServer(user=NOBODY) as server:
        box = server.spawn()
        found = box.protections()
        box.close()
        seen = run(server, LOOK_AROUND)[1].value
        text = doctor.report(server)
    assert found["missing"] == [] and any("user namespace" in item for item in found["applied"])
    assert seen == {"uid": 65534, "project": False, "processes": ["1"], "umount": -1, "unshare": -1,
                    "capabilities": ["0000000000000000"]}
    assert "Not root: the sandbox runs in a user namespace" in text and "WARNING" not in text and "FAILED" not in text


def test_doctor_warns_loudly_when_protections_are_missing():
    text = doctor.format_report({"applied": ["limits"], "missing": ["NO NAMESPACES (Operation not permitted): ..."]},
                                {"no network, not even 127.0.0.1": False, "not root": True}, "uid 1000")
    assert "WARNING: 2 sandbox protection(s) are OFF" in text and "Do not grade untrusted notebooks here" in text
    assert "[OFF] NO NAMESPACES" in text and "[FAILED] no network" in text and "[ok] not root" in text


def test_jail_reports_missing_namespaces_instead_of_pretending(monkeypatch):
    class NoNamespaces:
        def __getattr__(self, name):
            return lambda *args: -1 if name == "unshare" else 0
    monkeypatch.setattr(jail, "_libc", NoNamespaces())
    setup = jail.enter_namespaces(jail.Limits())
    assert setup.applied == [] and not setup.pid_namespace and not setup.new_root
    assert setup.missing[0].startswith("NO NAMESPACES")


def test_closing_kills_through_a_pidfd_never_by_a_pid_number(forkserver, monkeypatch):
    box = forkserver.spawn()
    pid = box.pid
    assert pid > 1 and box.load("f", "def f():\n    return 1\n", 0).ok
    sent = []
    monkeypatch.setattr(os, "kill", lambda *args: sent.append(args))
    monkeypatch.setattr(os, "killpg", lambda *args: sent.append(args))
    box.close()
    monkeypatch.undo()
    assert sent == []  # a pid number may have been handed to another process by now; the pidfd cannot
    for _ in range(50):
        if not os.path.exists(f"/proc/{pid}"):
            break
        time.sleep(0.02)
    assert not os.path.exists(f"/proc/{pid}")
