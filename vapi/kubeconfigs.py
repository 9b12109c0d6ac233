"""Kubeconfigs as `vapi create` and `vapi connect` handle them: made self-contained, read for a TLS
client, merged into the user's file as kubectl would."""
from __future__ import annotations

import base64
import os
import ssl
import tempfile
from pathlib import Path

import yaml


def tls_client(kubeconfig: Path) -> tuple[ssl.SSLContext, str]:
    """An SSL context that trusts the kubeconfig's CA and presents its client certificate."""
    config = yaml.safe_load(kubeconfig.read_text())
    cluster = config["clusters"][0]["cluster"]
    user = config["users"][0]["user"]
    context = ssl.create_default_context(cadata=base64.b64decode(cluster["certificate-authority-data"]).decode())
    # ssl loads a certificate chain only from a file: a private one, removed at once.
    with tempfile.NamedTemporaryFile(dir=kubeconfig.parent, prefix=".client-", suffix=".pem") as pem:
        pem.write(base64.b64decode(user["client-certificate-data"]) + b"\n"
                  + base64.b64decode(user["client-key-data"]))
        pem.flush()
        context.load_cert_chain(pem.name)
    return context, cluster["server"]


def write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)


# Kubeconfig fields naming a file, and the field that carries the same bytes inline.
_FILE_FIELDS = {"certificate-authority": "certificate-authority-data",
                "client-certificate": "client-certificate-data", "client-key": "client-key-data"}


def self_contained(path: Path) -> dict:
    """The kubeconfig at `path` with the files it names (relative to it) inlined as `*-data`."""
    config = yaml.safe_load(path.read_text()) or {}
    entries = [c.get("cluster") or {} for c in config.get("clusters") or []]
    entries += [u.get("user") or {} for u in config.get("users") or []]
    for entry in entries:
        for key, inline in _FILE_FIELDS.items():
            if key in entry:
                data = (path.parent / os.path.expanduser(entry.pop(key))).read_bytes()
                entry[inline] = base64.b64encode(data).decode()
    return config


def renamed(served: Path, label: str) -> dict:
    """The kubeconfig `vapi serve` wrote, its cluster, user and context all named `label`."""
    config = yaml.safe_load(served.read_text())
    return {"apiVersion": "v1", "kind": "Config", "preferences": {},
            "clusters": [{"name": label, "cluster": config["clusters"][0]["cluster"]}],
            "users": [{"name": label, "user": config["users"][0]["user"]}],
            "contexts": [{"name": label, "context": {"cluster": label, "user": label}}],
            "current-context": label}


def default_path() -> Path:
    """Where kubectl writes: $KUBECONFIG's first path, else ~/.kube/config."""
    paths = [p for p in os.environ.get("KUBECONFIG", "").split(os.pathsep) if p]
    return Path(paths[0]) if paths else Path.home() / ".kube" / "config"


def merge_into(path: Path, ours: dict) -> str | None:
    """Put `ours`' cluster, user and context into the kubeconfig at `path` (replacing ones of the
    same names) and make its context current; the context that was current before."""
    config = (yaml.safe_load(path.read_text()) if path.exists() else None) or {}
    config.setdefault("apiVersion", "v1")
    config.setdefault("kind", "Config")
    for section in ("clusters", "users", "contexts"):
        entries = [e for e in config.get(section) or [] if e.get("name") != ours[section][0]["name"]]
        config[section] = entries + ours[section]
    previous = config.get("current-context") or None
    config["current-context"] = ours["current-context"]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    write_private(tmp, yaml.safe_dump(config, sort_keys=False))
    os.replace(tmp, path)
    return previous
