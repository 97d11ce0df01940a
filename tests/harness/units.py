#!/usr/bin/python3
"""Runs systemd units for real inside a throwaway root: the "run" mode of the systemctl stand-in.

sandbox.sh installs this file as /usr/local/sbin/standin-units. The systemctl stand-in
(tests/harness/standins/systemctl) logs every call and keeps the enabled/active state in both modes; in
run mode (/run/standin/systemctl.mode says "run") it hands the verbs that start, stop, reload or query a
unit to this program:

    standin-units start|stop|restart|reload|reload-or-restart|try-restart|try-reload-or-restart UNIT...
    standin-units kill [-s SIGNAL] [--kill-whom=main|all] UNIT...
    standin-units is-active|is-failed|status UNIT...
    standin-units init UNIT...     PID 1 of a fleet host: starts UNITs (as boot would), then reaps orphans

What it does, as systemd would: reads the unit from /etc/systemd/system, /run/systemd/system,
/lib/systemd/system, /usr/lib/systemd/system (aliases are symlinks there; drop-ins NAME.d/*.conf are
merged; a template NAME@.service serves NAME@X.service), takes Environment=/EnvironmentFile=, creates
RuntimeDirectory=, runs ExecStartPre=, ExecStart= by Type= (simple/exec/idle/dbus: started and left
running; forking: waits for the parent and reads PIDFile=; oneshot: runs to completion, RemainAfterExit=;
notify/notify-reload: waits for READY=1 on $NOTIFY_SOCKET, from the main process unless NotifyAccess=
says otherwise), ExecStartPost=, ExecReload= with $MAINPID,
ExecStop= then KillMode=/KillSignal= with TimeoutStopSec=, ExecStopPost=. Command lines are split and
expanded as systemd does (quotes, C escapes, specifiers %n %N %p %i %I %t %H %%, $VAR as words,
${VAR} in a word, prefixes - @ : + !).

Services run detached (own session, stdin /dev/null, output appended to
/run/standin/systemd/log/UNIT.log, the journal's stand-in), so they outlive the SSH session that started
them; their parent becomes the host's PID 1 (`init`), which reaps them. Main PIDs are kept in
/run/standin/systemd/pid/UNIT as "PID STARTTIME" so a recycled PID is never mistaken for the service.

What it does not do: no cgroups (a unit's processes are its main process and that process's
descendants; a process that double-forks away from it is not stopped by KillMode=control-group), no
Restart=, no User=/Group=, no sandboxing options (ProtectSystem= etc.), no dependencies or ordering
between units; units other than services (timers, sockets, paths, targets) are only marked active or
inactive: a timer never fires, a socket never listens. Start and stop timeouts default to 30 s
instead of systemd's 90 s so a hung unit fails a test quickly.
"""
import errno
import fcntl
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import time

STATE = "/run/standin/systemd"
UNIT_DIRS = ["/etc/systemd/system", "/run/systemd/system", "/lib/systemd/system", "/usr/lib/systemd/system"]
LIST_KEYS = {
    "ExecStartPre", "ExecStart", "ExecStartPost", "ExecReload", "ExecStop", "ExecStopPost",
    "Environment", "EnvironmentFile", "RuntimeDirectory", "ConditionPathExists",
}
DEFAULT_TIMEOUT = 30.0
SERVICE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class UnitError(Exception):
    """A failure systemctl reports: message on stderr and an exit status."""

    def __init__(self, message, status=1):
        super().__init__(message)
        self.status = status


def unit_name(name):
    return name if re.search(r"\.(service|socket|target|timer|path|mount)$", name) else name + ".service"


# ---------------------------------------------------------------------------------------------------
# Unit files
# ---------------------------------------------------------------------------------------------------

class Unit:
    def __init__(self, name, path, canonical):
        self.name = name
        self.path = path
        self.canonical = canonical
        self.sections = {}

    def get(self, section, key, default=None):
        value = self.sections.get(section, {}).get(key)
        if value is None:
            return default
        return value[-1] if isinstance(value, list) else value

    def values(self, section, key):
        return self.sections.get(section, {}).get(key, [])

    @property
    def prefix(self):
        return self.canonical.split("@")[0].rsplit(".", 1)[0]

    @property
    def instance(self):
        base = self.canonical.rsplit(".", 1)[0]
        return base.split("@", 1)[1] if "@" in base else ""


def parse_into(unit, path):
    section = None
    with open(path, encoding="utf-8", errors="replace") as f:
        lines = f.read().split("\n")
    i = 0
    while i < len(lines):
        line = lines[i].strip()
        i += 1
        while line.endswith("\\") and i < len(lines):
            line = line[:-1] + " " + lines[i].strip()
            i += 1
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            unit.sections.setdefault(section, {})
            continue
        if section is None or "=" not in line:
            continue
        key, value = line.split("=", 1)
        key, value = key.strip(), value.strip()
        table = unit.sections[section]
        if key in LIST_KEYS:
            if value == "":
                table[key] = []
            else:
                table.setdefault(key, []).append(value)
        else:
            table[key] = value


def find_unit(name):
    """Loads NAME (aliases followed, drop-ins merged); raises UnitError when absent or masked."""
    name = unit_name(name)
    candidates = [name]
    m = re.match(r"^([^@]+)@([^.]*)\.(\w+)$", name)
    if m and m.group(2):
        candidates.append("%s@.%s" % (m.group(1), m.group(3)))
    for candidate in candidates:
        for d in UNIT_DIRS:
            p = os.path.join(d, candidate)
            if not os.path.lexists(p):
                continue
            real = os.path.realpath(p)
            if real == "/dev/null":
                raise UnitError("Unit %s is masked." % name)
            if not os.path.isfile(real):
                continue
            canonical = name
            if os.path.islink(p) and candidate == name:
                canonical = os.path.basename(real)
            unit = Unit(name, real, canonical)
            parse_into(unit, real)
            dropins = {}
            for alias in dict.fromkeys([name, canonical, candidate]):
                for dd in UNIT_DIRS:
                    ddir = os.path.join(dd, alias + ".d")
                    if os.path.isdir(ddir):
                        for f in sorted(os.listdir(ddir)):
                            if f.endswith(".conf") and f not in dropins:
                                dropins[f] = os.path.join(ddir, f)
            for f in sorted(dropins):
                parse_into(unit, dropins[f])
            return unit
    raise UnitError("Unit %s not found." % name, 5)


def timespan(text, default):
    """A Timeout*Sec= value in seconds; None for no timeout ("infinity", or 0 as systemd reads it for
    these settings: K3s's unit has TimeoutStartSec=0)."""
    if text is None or text == "":
        return default
    if text.strip() == "infinity":
        return None
    total = 0.0
    units = {"us": 1e-6, "ms": 1e-3, "s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hr": 3600, "d": 86400}
    for number, unit in re.findall(r"([0-9.]+)\s*([a-z]*)", text):
        total += float(number) * units.get(unit or "s", 1)
    return total if total > 0 else None


def truthy(text):
    return (text or "").strip().lower() in ("1", "yes", "true", "on")


# ---------------------------------------------------------------------------------------------------
# Command lines (systemd.service(5), "Command lines")
# ---------------------------------------------------------------------------------------------------

C_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b", "f": "\f", "v": "\v", "\\": "\\",
             '"': '"', "'": "'", "s": " ", "$": "$"}


def split_words(text):
    """Splits a value into words: whitespace separates, '...' and "..." quote, C escapes apply."""
    words, word, quote, in_word, i = [], [], None, False, 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            if nxt == "\n":
                i += 2
                continue
            if nxt == "x" and re.match(r"[0-9a-fA-F]{2}", text[i + 2:i + 4]):
                word.append(chr(int(text[i + 2:i + 4], 16)))
                i += 4
            else:
                word.append(C_ESCAPES.get(nxt, nxt))
                i += 2
            in_word = True
            continue
        if quote:
            if c == quote:
                quote = None
            else:
                word.append(c)
        elif c in "'\"":
            quote, in_word = c, True
        elif c.isspace():
            if in_word:
                words.append("".join(word))
                word, in_word = [], False
        else:
            word.append(c)
            in_word = True
        i += 1
    if quote:
        raise UnitError("unbalanced quotes in %r" % text)
    if in_word:
        words.append("".join(word))
    return words


def specifiers(text, unit):
    table = {
        "n": unit.canonical, "N": unit.canonical.rsplit(".", 1)[0], "p": unit.prefix, "i": unit.instance,
        "I": unit.instance.replace("-", "/"), "t": "/run", "H": socket.gethostname(), "h": "/root",
        "%": "%",
    }
    return re.sub(r"%(.)", lambda m: table.get(m.group(1), m.group(0)), text)


def expand_env(words, env):
    out = []
    for w in words:
        whole = re.fullmatch(r"\$([A-Za-z_][A-Za-z0-9_]*)", w)
        if whole:
            out.extend(env.get(whole.group(1), "").split())
            continue
        w = re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", lambda m: env.get(m.group(1), ""), w)
        out.append(w.replace("$$", "$"))
    return out


class ExecLine:
    def __init__(self, raw, unit, env):
        line = specifiers(raw.strip(), unit)
        self.ignore_failure = False
        self.argv0_given = False
        expand = True
        while line and line[0] in "-@:+!|":
            flag, line = line[0], line[1:]
            if flag == "-":
                self.ignore_failure = True
            elif flag == "@":
                self.argv0_given = True
            elif flag == ":":
                expand = False
        words = split_words(line)
        if expand:
            words = expand_env(words, env)
        if not words:
            raise UnitError("%s: empty command line %r" % (unit.canonical, raw))
        # With "@" the second word is what the program sees as argv[0].
        self.path = words[0]
        self.argv = words[1:] if self.argv0_given and len(words) > 1 else words
        if not self.path.startswith("/"):
            for d in SERVICE_PATH.split(":"):
                if os.access(os.path.join(d, self.path), os.X_OK):
                    self.path = os.path.join(d, self.path)
                    break
        self.text = " ".join(words)


# ---------------------------------------------------------------------------------------------------
# State
# ---------------------------------------------------------------------------------------------------

def state_path(kind, unit_id):
    d = os.path.join(STATE, kind)
    os.makedirs(d, exist_ok=True)
    return os.path.join(d, unit_id)


def start_time(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return None if fields[0] in ("Z", "X") else fields[19]
    except (OSError, IndexError):
        return None


def write_main_pid(unit, pid):
    with open(state_path("pid", unit.canonical), "w") as f:
        f.write("%d %s\n" % (pid, start_time(pid) or "0"))


def forget_main_pid(unit):
    p = state_path("pid", unit.canonical)
    if os.path.exists(p):
        os.unlink(p)


def main_pid(unit):
    """The unit's main PID when that process is still the one we started, else None."""
    try:
        with open(state_path("pid", unit.canonical)) as f:
            pid, started = f.read().split()
    except (OSError, ValueError):
        return None
    pid = int(pid)
    return pid if start_time(pid) == started else None


def set_active(unit, active):
    for name in dict.fromkeys([unit.canonical, unit.name]):
        p = state_path("active", name)
        if active:
            open(p, "a").close()
        elif os.path.exists(p):
            os.unlink(p)


def set_failed(unit, reason):
    p = state_path("failed", unit.canonical)
    if reason is None:
        if os.path.exists(p):
            os.unlink(p)
    else:
        with open(p, "w") as f:
            f.write(reason + "\n")


def active_state(unit):
    """'active', 'failed' or 'inactive', from the markers and whether the main process lives."""
    marked = os.path.exists(state_path("active", unit.canonical))
    has_pid_file = os.path.exists(state_path("pid", unit.canonical))
    if marked and (not has_pid_file or main_pid(unit) is not None):
        return "active"
    if marked or os.path.exists(state_path("failed", unit.canonical)):
        return "failed"
    return "inactive"


class UnitLock:
    """One systemctl job per unit at a time."""

    def __init__(self, unit):
        self.path = state_path("lock", unit.canonical)

    def __enter__(self):
        self.fd = os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600)
        fcntl.flock(self.fd, fcntl.LOCK_EX)

    def __exit__(self, *exc):
        os.close(self.fd)


# ---------------------------------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------------------------------

def read_environment_file(path):
    env = {}
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.strip()
            if not line or line[0] in "#;" or "=" not in line:
                continue
            k, v = line.split("=", 1)
            words = split_words(v) if v.strip() else [""]
            env[k.strip().removeprefix("export ").strip()] = " ".join(words)
    return env


def unit_environment(unit):
    env = {"PATH": SERVICE_PATH, "LANG": os.environ.get("LANG", "C.UTF-8"), "INVOCATION_ID": os.urandom(16).hex()}
    for value in unit.values("Service", "Environment"):
        for assignment in split_words(specifiers(value, unit)):
            if "=" in assignment:
                k, v = assignment.split("=", 1)
                env[k] = v
    for value in unit.values("Service", "EnvironmentFile"):
        value = specifiers(value, unit)
        optional = value.startswith("-")
        path = value.lstrip("-")
        try:
            env.update(read_environment_file(path))
        except OSError:
            if not optional:
                raise UnitError("%s: cannot read EnvironmentFile %s" % (unit.canonical, path))
    return env


def log_file(unit):
    return open(state_path("log", unit.canonical + ".log"), "ab")


def job_failed(unit, why="the control process exited with error code"):
    return UnitError(
        'Job for %s failed because %s.\nSee "systemctl status %s" and "journalctl -xeu %s" for details.'
        % (unit.canonical, why, unit.canonical, unit.canonical))


def spawn(unit, line, env):
    log = log_file(unit)
    try:
        return subprocess.Popen(line.argv, executable=line.path, env=env, stdin=subprocess.DEVNULL,
                                stdout=log, stderr=log, start_new_session=True, close_fds=True,
                                cwd=unit.get("Service", "WorkingDirectory", "/").lstrip("-") or "/")
    except OSError as e:
        raise UnitError("%s: cannot execute %s: %s" % (unit.canonical, line.path, e.strerror))
    finally:
        log.close()


def run_control(unit, key, env, timeout):
    """Runs every command of KEY in order and waits for each; fails on the first non-zero exit."""
    for raw in unit.values("Service", key):
        line = ExecLine(raw, unit, env)
        proc = spawn(unit, line, env)
        try:
            code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            raise job_failed(unit, "a timeout was exceeded")
        if code != 0 and not line.ignore_failure:
            with log_file(unit) as log:
                log.write(("%s: %s exited with status %d\n" % (key, line.text, code)).encode())
            raise job_failed(unit)


def wait_ready(unit, proc, sock, timeout):
    """Waits for READY=1 on the notify socket; honours MAINPID= and NotifyAccess= (default main: only
    the main process may report, as systemd checks with the sender's credentials)."""
    deadline = None if timeout is None else time.monotonic() + timeout
    main = proc.pid
    access = unit.get("Service", "NotifyAccess", "main")
    while True:
        if proc.poll() is not None:
            raise job_failed(unit, "the main process exited before it reported readiness")
        left = 0.2 if deadline is None else min(0.2, deadline - time.monotonic())
        if left <= 0:
            os.killpg(proc.pid, signal.SIGKILL)
            raise job_failed(unit, "a timeout was exceeded")
        sock.settimeout(left)
        try:
            raw, ancillary, _, _ = sock.recvmsg(4096, socket.CMSG_SPACE(struct.calcsize("3i")))
        except socket.timeout:
            continue
        sender = None
        for level, kind, cdata in ancillary:
            if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                sender = struct.unpack("3i", cdata[:struct.calcsize("3i")])[0]
        if access == "none" or (access in ("main", "exec") and sender != main):
            continue
        data = raw.decode(errors="replace")
        fields = dict(l.split("=", 1) for l in data.split("\n") if "=" in l)
        if fields.get("MAINPID", "").isdigit():
            main = int(fields["MAINPID"])
        if fields.get("READY") == "1":
            return main


def read_pid_file(unit, timeout):
    path = unit.get("Service", "PIDFile")
    if not path:
        return None
    path = specifiers(path, unit)
    deadline = time.monotonic() + (timeout or DEFAULT_TIMEOUT)
    while time.monotonic() < deadline:
        try:
            with open(path) as f:
                pid = int(f.read().split()[0])
            if start_time(pid):
                return pid
        except (OSError, ValueError, IndexError):
            pass
        time.sleep(0.05)
    raise job_failed(unit, "the service did not write its PID file %s" % path)


def runtime_directories(unit):
    mode = int(unit.get("Service", "RuntimeDirectoryMode", "0755"), 8)
    dirs = []
    for value in unit.values("Service", "RuntimeDirectory"):
        dirs.extend(os.path.join("/run", d) for d in split_words(specifiers(value, unit)))
    return dirs, mode


def conditions_met(unit):
    for value in unit.values("Unit", "ConditionPathExists"):
        negate = value.startswith("!")
        if os.path.exists(value.lstrip("!")) == negate:
            return False
    return True


def start(unit):
    if active_state(unit) == "active":
        return
    if not unit.canonical.endswith(".service"):
        set_active(unit, True)
        return
    if not conditions_met(unit):
        return
    service_type = unit.get("Service", "Type") or ("simple" if unit.values("Service", "ExecStart") else "oneshot")
    timeout = timespan(unit.get("Service", "TimeoutStartSec", unit.get("Service", "TimeoutSec")), DEFAULT_TIMEOUT)
    env = unit_environment(unit)
    dirs, mode = runtime_directories(unit)
    for d in dirs:
        os.makedirs(d, exist_ok=True)
        os.chmod(d, mode)
    forget_main_pid(unit)
    set_failed(unit, None)
    try:
        run_control(unit, "ExecStartPre", env, timeout)
        starts = unit.values("Service", "ExecStart")
        if service_type == "oneshot":
            run_control(unit, "ExecStart", env, timeout)
            remain = truthy(unit.get("Service", "RemainAfterExit"))
        else:
            if len(starts) != 1:
                raise UnitError("%s: Type=%s needs exactly one ExecStart=" % (unit.canonical, service_type))
            line = ExecLine(starts[0], unit, env)
            if service_type == "forking":
                run_control(unit, "ExecStart", env, timeout)
                pid = read_pid_file(unit, timeout)
            elif service_type in ("notify", "notify-reload"):
                sock_path = state_path("notify", unit.canonical)
                if os.path.exists(sock_path):
                    os.unlink(sock_path)
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
                try:
                    sock.bind(sock_path)
                    proc = spawn(unit, line, dict(env, NOTIFY_SOCKET=sock_path))
                    pid = wait_ready(unit, proc, sock, timeout)
                finally:
                    sock.close()
                    os.unlink(sock_path)
            else:
                pid = spawn(unit, line, env).pid
            if pid is not None:
                write_main_pid(unit, pid)
                env["MAINPID"] = str(pid)
            remain = True
        run_control(unit, "ExecStartPost", env, timeout)
    except UnitError as e:
        set_failed(unit, str(e))
        set_active(unit, False)
        kill_unit(unit, signal.SIGKILL, "control-group")
        raise
    set_active(unit, remain)


def descendants(pid):
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def signal_pids(pids, sig):
    for pid in pids:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


def kill_unit(unit, sig, kill_mode):
    pid = main_pid(unit)
    if pid is None or kill_mode == "none":
        return []
    group = [pid] + descendants(pid)
    signal_pids(group if kill_mode == "control-group" else [pid], sig)
    return group


def wait_gone(pids, timeout):
    deadline = time.monotonic() + (timeout if timeout is not None else DEFAULT_TIMEOUT)
    while time.monotonic() < deadline:
        if not any(start_time(p) for p in pids):
            return True
        time.sleep(0.05)
    return False


def stop(unit):
    state = active_state(unit)
    if state == "inactive":
        return
    timeout = timespan(unit.get("Service", "TimeoutStopSec", unit.get("Service", "TimeoutSec")), DEFAULT_TIMEOUT)
    env = unit_environment(unit)
    pid = main_pid(unit)
    if pid is not None:
        env["MAINPID"] = str(pid)
    try:
        if state == "active":
            run_control(unit, "ExecStop", env, timeout)
    except UnitError:
        pass  # systemd goes on to kill the processes when ExecStop fails
    kill_mode = unit.get("Service", "KillMode", "control-group")
    kill_signal = getattr(signal, unit.get("Service", "KillSignal", "SIGTERM"), signal.SIGTERM)
    group = kill_unit(unit, kill_signal, kill_mode)
    if group and not wait_gone(group[:1] if kill_mode == "process" else group, timeout):
        signal_pids(group[:1] if kill_mode == "process" else group, signal.SIGKILL)
    if kill_mode == "mixed":
        signal_pids(group[1:], signal.SIGKILL)
    try:
        run_control(unit, "ExecStopPost", env, timeout)
    except UnitError:
        pass
    forget_main_pid(unit)
    set_active(unit, False)
    set_failed(unit, None)
    if not truthy(unit.get("Service", "RuntimeDirectoryPreserve")):
        for d in runtime_directories(unit)[0]:
            subprocess.run(["rm", "-rf", "--", d], check=False)


def reload(unit):
    if active_state(unit) != "active":
        raise UnitError("%s is not active, cannot reload." % unit.canonical)
    env = unit_environment(unit)
    pid = main_pid(unit)
    if pid is not None:
        env["MAINPID"] = str(pid)
    if unit.values("Service", "ExecReload"):
        run_control(unit, "ExecReload", env, timespan(unit.get("Service", "TimeoutStartSec"), DEFAULT_TIMEOUT))
    elif unit.get("Service", "Type") == "notify-reload" and pid is not None:
        os.kill(pid, getattr(signal, unit.get("Service", "ReloadSignal", "SIGHUP"), signal.SIGHUP))
    else:
        raise UnitError("Failed to reload %s: Job type reload is not applicable for unit %s."
                        % (unit.canonical, unit.canonical))


def can_reload(unit):
    return bool(unit.values("Service", "ExecReload")) or unit.get("Service", "Type") == "notify-reload"


def status(unit):
    state = active_state(unit)
    description = unit.get("Unit", "Description", unit.canonical)
    enabled = "enabled" if os.path.exists(state_path("enabled", unit.name)) else "disabled"
    print("● %s - %s" % (unit.canonical, description))
    print("     Loaded: loaded (%s; %s)" % (unit.path, enabled))
    print("     Active: %s (stand-in)" % state)
    pid = main_pid(unit)
    if pid is not None:
        print("   Main PID: %d" % pid)
    try:
        with open(state_path("log", unit.canonical + ".log"), "rb") as f:
            tail = f.read().decode(errors="replace").splitlines()[-10:]
        if tail:
            print()
            print("\n".join(tail))
    except OSError:
        pass
    return 0 if state == "active" else 3


# ---------------------------------------------------------------------------------------------------
# PID 1 of a fleet host
# ---------------------------------------------------------------------------------------------------

def init(names):
    signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGCHLD])
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    for name in names:
        unit = find_unit(name)
        open(state_path("enabled", unit.canonical), "a").close()
        try:
            start(unit)
        except UnitError as e:
            print("standin-units init: %s" % e, file=sys.stderr, flush=True)
    print("standin-units init: up", flush=True)
    while True:
        try:
            while os.waitpid(-1, os.WNOHANG)[0] > 0:
                pass
        except ChildProcessError:
            pass
        signal.sigtimedwait([signal.SIGCHLD], 5)


# ---------------------------------------------------------------------------------------------------

def main(argv):
    opts = {"signal": "SIGTERM", "kill-whom": "all"}
    args = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in ("-s", "--signal"):
            opts["signal"] = argv[i + 1]
            i += 2
            continue
        if a.startswith("--signal=") or a.startswith("--kill-whom="):
            k, v = a[2:].split("=", 1)
            opts[k] = v
        elif a in ("-q", "--quiet"):
            opts["quiet"] = True
        elif not a.startswith("-"):
            args.append(a)
        i += 1
    if not args:
        print("usage: standin-units VERB UNIT...", file=sys.stderr)
        return 2
    verb, names = args[0], args[1:]
    if verb == "init":
        init(names)
        return 0
    quiet = opts.get("quiet", False)
    if verb in ("is-active", "is-failed"):
        states = []
        for n in names:
            try:
                states.append(active_state(find_unit(n)))
            except UnitError:
                states.append("inactive")
        if not quiet:
            print("\n".join(states))
        wanted = "active" if verb == "is-active" else "failed"
        return 0 if wanted in states else (3 if verb == "is-active" else 1)
    status_code = 0
    for n in names:
        try:
            unit = find_unit(n)
            if verb == "status":
                status_code = max(status_code, status(unit))
                continue
            with UnitLock(unit):
                if verb == "start":
                    start(unit)
                elif verb == "stop":
                    stop(unit)
                elif verb == "restart":
                    stop(unit)
                    start(unit)
                elif verb == "reload":
                    reload(unit)
                elif verb in ("reload-or-restart", "try-reload-or-restart"):
                    if active_state(unit) == "active" and can_reload(unit):
                        reload(unit)
                    elif verb == "reload-or-restart" or active_state(unit) == "active":
                        stop(unit)
                        start(unit)
                elif verb == "try-restart":
                    if active_state(unit) == "active":
                        stop(unit)
                        start(unit)
                elif verb == "kill":
                    sig = getattr(signal, opts["signal"] if opts["signal"].startswith("SIG") else "SIG" + opts["signal"])
                    kill_unit(unit, sig, "control-group" if opts["kill-whom"] == "all" else "process")
                else:
                    print("standin-units: unsupported verb '%s'" % verb, file=sys.stderr)
                    return 1
        except UnitError as e:
            if verb == "status":
                print("Unit %s could not be found." % unit_name(n), file=sys.stderr)
                status_code = 4
                continue
            message = str(e)
            if e.status == 5:
                message = "Failed to %s %s: %s" % (verb, unit_name(n), message)
            print(message, file=sys.stderr)
            return e.status
    return status_code


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except OSError as e:
        if e.errno == errno.EPIPE:
            sys.exit(1)
        raise
