"""What every benchmark shares: the table's row, and a server started for measuring."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from vapi.testing import ServerProcess


@dataclass
class Row:
    figure: str
    value: str
    target: str = ""
    met: bool | None = None


def start_server(data_dir: Path | None = None, source: Path | None = None,
                 extra_args: tuple[str, ...] = ()) -> ServerProcess:
    return ServerProcess(data_dir, source=source, extra_args=extra_args).start()


def vm_rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")
