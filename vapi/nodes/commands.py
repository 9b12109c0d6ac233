"""The commands a simulated container can run: what `exec`, `attach` and a container's own
command line reach, there being no real process behind them.

Known programs (a path's last part counts, so `/bin/sh` is `sh`):

- `cat`: stdin to stdout until stdin ends (files: none exist, so `cat FILE` fails as busybox's).
- `echo [-n] ARGS`, `true`, `false` (exit 1), `sleep SECONDS`, `hostname` (the pod's host name),
  `env` (the container's `env` values from its spec, then `HOSTNAME`, `KUBERNETES_SERVICE_HOST`,
  `KUBERNETES_SERVICE_PORT`, `PATH`, `HOME`), `exit [N]` in a shell.
- `sh -c SCRIPT`: commands separated by `;`, `&&` and `||`, words quoted as a POSIX shell quotes
  them, `$NAME` and `${NAME}` expanded from the environment (not inside single quotes), `$?` the
  last exit code. `sh` alone reads such lines from stdin until it ends (an interactive shell,
  prompting `/ # ` when it has a terminal).

Anything else is not found: inside a shell `sh: NAME: not found` on stderr and exit 127, as a
busybox shell says it; run directly, `NotFound`, the container runtime's refusal to start it.
"""
from __future__ import annotations

import asyncio
import re
import shlex
from collections.abc import Awaitable, Callable

Write = Callable[[bytes], Awaitable[None]]
SERVICE_HOST, SERVICE_PORT = "10.96.0.1", "443"
NOT_FOUND = 127


class Pipe:
    """Bytes fed by one side, read by the other; `close()` is end of input."""

    def __init__(self):
        self._chunks: asyncio.Queue[bytes | None] = asyncio.Queue()
        self._buffer = b""
        self._closed = False

    def feed(self, data: bytes) -> None:
        if data and not self._closed:
            self._chunks.put_nowait(data)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._chunks.put_nowait(None)

    async def read(self) -> bytes:
        """Some bytes, or b"" when the input has ended."""
        if self._buffer:
            data, self._buffer = self._buffer, b""
            return data
        data = await self._chunks.get()
        if data is None:
            self._chunks.put_nowait(None)  # later reads see the end too
            return b""
        return data

    async def readline(self) -> bytes:
        while b"\n" not in self._buffer:
            data = await self.read()
            if not data:
                line, self._buffer = self._buffer, b""
                return line
            self._buffer += data
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line + b"\n"


def terminal_input(source: Pipe, echo: Write) -> Pipe:
    """What a terminal's line discipline makes of typed bytes: a carriage return ends a line, what
    is typed is echoed back, and Ctrl-D at a line's start ends the input."""
    typed = Pipe()

    async def pump() -> None:
        while data := await source.read():
            data = data.replace(b"\r", b"\n")
            data, eof, _ = data.partition(b"\x04")
            typed.feed(data)
            await echo(data.replace(b"\n", b"\r\n"))
            if eof:
                break
        typed.close()

    typed.pump = asyncio.create_task(pump())
    return typed


def closed_pipe() -> Pipe:
    pipe = Pipe()
    pipe.close()
    return pipe


class Process:
    """One command's surroundings: its stdin, where its output goes, its environment."""

    def __init__(self, stdin: Pipe, stdout: Write, stderr: Write, env: dict[str, str], hostname: str,
                 tty: bool = False):
        self.stdin, self.stdout, self.stderr = stdin, stdout, stderr
        self.env, self.hostname, self.tty = env, hostname, tty
        self.status = 0


def hostname(pod: dict) -> str:
    """The kubelet's: `spec.hostname` when the pod sets one, else its name."""
    return (pod.get("spec") or {}).get("hostname") or pod.get("metadata", {}).get("name", "")


def environment(pod: dict, container: dict) -> dict[str, str]:
    """The variables a container starts with (values only; `valueFrom` is not resolved here): the
    kubelet's service variables first, then the container's own, which win over them, as a
    kubelet merges them; the host name is the pod's `hostname` when it sets one."""
    env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOSTNAME": hostname(pod),
           "KUBERNETES_SERVICE_HOST": SERVICE_HOST, "KUBERNETES_SERVICE_PORT": SERVICE_PORT, "HOME": "/root"}
    for var in container.get("env") or []:
        if "value" in var:
            env[var["name"]] = str(var["value"])
    return env


async def _cat(proc: Process, args: list[str]) -> int:
    if args and args != ["-"]:
        for name in args:
            if name != "-":
                await proc.stderr(f"cat: can't open '{name}': No such file or directory\n".encode())
        return 1
    while data := await proc.stdin.read():
        await proc.stdout(data)
    return 0


async def _echo(proc: Process, args: list[str]) -> int:
    newline = True
    if args[:1] == ["-n"]:
        newline, args = False, args[1:]
    await proc.stdout((" ".join(args) + ("\n" if newline else "")).encode())
    return 0


async def _env(proc: Process, args: list[str]) -> int:
    await proc.stdout("".join(f"{k}={v}\n" for k, v in proc.env.items()).encode())
    return 0


async def _hostname(proc: Process, args: list[str]) -> int:
    await proc.stdout(f"{proc.hostname}\n".encode())
    return 0


async def _sleep(proc: Process, args: list[str]) -> int:
    try:
        seconds = sum(float(a) for a in args) if args else None
    except ValueError:
        bad = next(a for a in args if not re.fullmatch(r"[0-9.]+", a))
        await proc.stderr(f"sleep: invalid number '{bad}'\n".encode())
        return 1
    if seconds is None:
        await proc.stderr(b"BusyBox v1.36.1 multi-call binary.\n\nUsage: sleep [N]...\n")
        return 1
    await asyncio.sleep(seconds)
    return 0


async def _exit_code(code: int, proc: Process, args: list[str]) -> int:
    return code


async def _sh(proc: Process, args: list[str]) -> int:
    if args[:1] == ["-c"]:
        if len(args) < 2:
            await proc.stderr(b"sh: -c requires an argument\n")
            return 2
        return await run_script(proc, args[1])
    status = 0
    while True:
        if proc.tty:
            await proc.stdout(b"/ # ")
        line = await proc.stdin.readline()
        if not line:
            return status
        try:
            status = await run_script(proc, line.decode(errors="replace"))
        except _Exit as e:
            return e.code


class _Exit(Exception):
    def __init__(self, code: int):
        self.code = code


PROGRAMS = {"cat": _cat, "echo": _echo, "env": _env, "printenv": _env, "hostname": _hostname,
            "sleep": _sleep, "sh": _sh, "true": lambda p, a: _exit_code(0, p, a),
            "false": lambda p, a: _exit_code(1, p, a)}


def known(argv: list[str]) -> bool:
    return bool(argv) and argv[0].rsplit("/", 1)[-1] in PROGRAMS


def simulated(argv: list[str]) -> bool:
    """Whether a container's command line runs wholly in the simulated shell, so that its end is
    the container's end. A script using anything the shell lacks (loops, other programs) is not:
    such a container runs until stopped, as an image's entrypoint does."""
    if not known(argv):
        return False
    if argv[0].rsplit("/", 1)[-1] != "sh" or len(argv) < 3 or argv[1] != "-c":
        return True
    try:
        commands = [c for line in argv[2].splitlines() or [""] for c in _parse(line)]
    except (SyntaxError, ValueError):
        return True  # sh reports the syntax error and exits 2
    return all(words[0] == "exit" or simulated(words) for _, words in commands)


async def execute(proc: Process, argv: list[str]) -> int:
    """Run a command line as the container runtime would: its exit code."""
    if not known(argv):
        raise NotFound(argv[0] if argv else "")
    return await PROGRAMS[argv[0].rsplit("/", 1)[-1]](proc, argv[1:])


class NotFound(Exception):
    """A program run directly (not by a shell) that the container does not have: the runtime
    cannot start it, so there is no exit code, only the runtime's refusal."""

    def __init__(self, name: str):
        super().__init__(f'OCI runtime exec failed: exec failed: unable to start container process: exec: "{name}": '
                         "executable file not found in $PATH: unknown")


_VARIABLE = re.compile(r"\$(?:\{(\w+|\?)\}|(\w+|\?))")


def _expand(proc: Process, script: str) -> str:
    """`$NAME` outside single quotes becomes its value, quoted so it stays one word's text."""
    out, quote = [], None
    for part in re.split(r"('|\"|\$\{\w+\}|\$\{\?\}|\$\w+|\$\?)", script):
        if part in ("'", '"'):
            quote = None if quote == part else (quote or part)
            out.append(part)
        elif quote != "'" and _VARIABLE.fullmatch(part):
            m = _VARIABLE.fullmatch(part)
            name = m.group(1) or m.group(2)
            value = str(proc.status) if name == "?" else proc.env.get(name, "")
            out.append(value.replace("\\", "\\\\").replace('"', '\\"') if quote == '"' else shlex.quote(value)
                       if value else "")
        else:
            out.append(part)
    return "".join(out)


def _parse(script: str) -> list[tuple[str, list[str]]]:
    """(the operator before it, the words) for each command of a script."""
    lexer = shlex.shlex(script, posix=True, punctuation_chars=";&|")
    lexer.whitespace_split = True
    lexer.commenters = "#"
    commands, words, op = [], [], ";"
    for token in lexer:
        if token in (";", "&&", "||", "\n"):
            if words:
                commands.append((op, words))
            elif token != ";":
                raise SyntaxError(f"sh: syntax error: unexpected \"{token}\"")
            words, op = [], token
        elif token and set(token) <= set(";&|"):
            raise SyntaxError(f"sh: syntax error: unsupported \"{token}\"")
        else:
            words.append(token)
    if words:
        commands.append((op, words))
    return commands


async def run_script(proc: Process, script: str) -> int:
    commands = []
    for line in script.splitlines() or [""]:
        try:
            commands += _parse(_expand(proc, line))
        except (SyntaxError, ValueError) as e:
            await proc.stderr(f"{e}\n".encode() if isinstance(e, SyntaxError) else b"sh: syntax error: unterminated "
                              b"quoted string\n")
            proc.status = 2
            return 2
    for op, words in commands:
        if (op == "&&" and proc.status != 0) or (op == "||" and proc.status == 0):
            continue
        if words[0] == "exit":
            raise _Exit(int(words[1]) if len(words) > 1 and words[1].isdigit() else proc.status)
        if not known(words):
            await proc.stderr(f"sh: {words[0]}: not found\n".encode())
            proc.status = NOT_FOUND
            continue
        proc.status = await execute(proc, words)
    return proc.status


async def shell(proc: Process, argv: list[str]) -> int:
    """`execute`, with a script's `exit N` ending it as its status."""
    try:
        return await execute(proc, argv)
    except _Exit as e:
        return e.code


class LineWriter:
    """Output cut into lines, each handed to `emit` (a container's log takes lines)."""

    def __init__(self, emit: Callable[[str], None]):
        self.emit = emit
        self._partial = b""

    async def __call__(self, data: bytes) -> None:
        self._partial += data
        *lines, self._partial = self._partial.split(b"\n")
        for line in lines:
            self.emit(line.decode(errors="replace"))

    def flush(self) -> None:
        if self._partial:
            self.emit(self._partial.decode(errors="replace"))
            self._partial = b""


def command_line(container: dict) -> list[str]:
    return [str(a) for a in (container.get("command") or []) + (container.get("args") or [])]


async def main_process(container, runtime) -> int | None:
    """A container's own command line, its output written to its log; its exit code. An image's
    entrypoint (no command given, or one not simulated) runs quietly until the container is
    stopped: None."""
    argv = command_line(container.spec)
    if not simulated(argv):
        return None
    out = LineWriter(lambda line: runtime.logs.append(container.uid, container.name, container.instance, line))
    stdin = container.stdin if container.stdin is not None else closed_pipe()
    proc = Process(stdin, out, out, environment(container.pod, container.spec),
                   hostname(container.pod), bool(container.spec.get("tty")))
    try:
        return await shell(proc, argv)
    finally:
        out.flush()
