"""Install the tools some capability probes drive into the project's cache (.fwclaims-cache/).

`verify run` never downloads anything; these steps do, once, from the package registries:

    python -m verify.run.probetools npm        Node packages of the web probes (cache/npm)
    python -m verify.run.probetools tfjs       the TensorFlow.js converter (cache/pip/tensorflowjs)
    python -m verify.run.probetools horovod    try to build Horovod (cache/pip/horovod); minutes

``make probe-tools`` runs the first two, ``make horovod`` the third. The TensorFlow.js converter
goes in without its dependency pins and into a folder of its own: pip cannot install it beside
TensorFlow 2.21 (one of its dependencies pins tensorflow==2.19.0), and the project's environment
must keep its TensorFlow. Whether the converter then loads is what the probe finds out. A Horovod
build that fails leaves a record (cache/horovod/build.json) with the first compiler error, which the
probe reports as its reason.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from kg.fsutil import write_atomic
from kg.paths import find_root

JS = Path(__file__).resolve().parents[1] / "benchmarks" / "js"
TFJS = ["tensorflowjs==4.22.0", "tf-keras", "tensorflow-hub", "tensorflow-decision-forests",
        "ydf", "wurlitzer"]  # fmt: skip
HOROVOD = "0.28.1"
HOROVOD_ENV = {
    "HOROVOD_WITH_PYTORCH": "1",
    "HOROVOD_WITHOUT_TENSORFLOW": "1",
    "HOROVOD_WITHOUT_MXNET": "1",
    "HOROVOD_WITHOUT_MPI": "1",
    "HOROVOD_WITH_GLOO": "1",
    "HOROVOD_CPU_OPERATIONS": "GLOO",
    "MAKEFLAGS": "-j1",
}


def cache() -> Path:
    """The cache folder of the checkout."""
    return find_root() / ".fwclaims-cache"


def npm() -> None:
    """npm ci of the web probes' package.json into cache/npm (install scripts off)."""
    target = cache() / "npm"
    target.mkdir(parents=True, exist_ok=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copy(JS / name, target / name)
    subprocess.run(["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund"], cwd=target,
                   check=True)  # fmt: skip


def tfjs() -> None:
    """The TensorFlow.js converter and what it imports, without dependency pins."""
    target = cache() / "pip" / "tensorflowjs"
    _pip("install", "--quiet", "--no-deps", "--upgrade", "--target", str(target), *TFJS)


def horovod() -> int:
    """Try to build Horovod with PyTorch and Gloo; install it in the cache or record why not."""
    root = cache()
    work, site = root / "horovod", root / "pip" / "horovod"
    work.mkdir(parents=True, exist_ok=True)
    log = work / "build.log"
    with open(log, "w", encoding="utf-8") as out:
        built = subprocess.run(
            [sys.executable, "-m", "pip", "wheel", f"horovod=={HOROVOD}", "--no-deps",
             "--no-build-isolation", "-w", str(work / "wheel")],
            stdout=out, stderr=subprocess.STDOUT, env={**_environ(), **HOROVOD_ENV},
        )  # fmt: skip
    record = {
        "horovod": HOROVOD,
        "torch": importlib.metadata.version("torch"),
        "date": dt.date.today().isoformat(),
        "built": built.returncode == 0,
        "reason": "" if built.returncode == 0 else first_error(log.read_text(errors="replace")),
        "log": str(log),
    }
    if built.returncode == 0:
        wheel = next((work / "wheel").glob("horovod-*.whl"))
        _pip("install", "--quiet", "--no-deps", "--target", str(site), str(wheel))
    write_atomic(work / "build.json", json.dumps(record, indent=2) + "\n")
    print(record["reason"] or f"Horovod {HOROVOD} built and installed in {site}")
    return built.returncode


_ERROR = re.compile(r"error:\s*(?:#error\s*)?(.+)")
_STANDARD = re.compile(r"-std=(c\+\+\d+)")


def first_error(log: str) -> str:
    """The first compiler error of a build log, the file it is in and the failing command's -std."""
    lines = log.splitlines()
    for i, line in enumerate(lines):
        match = _ERROR.search(line)
        if match is None or "subprocess-exited-with-error" in line:
            continue
        where = line.strip().split(":")[0].split("site-packages/")[-1]
        command = next((c for c in reversed(lines[:i]) if "-std=" in c), "")
        standard = _STANDARD.findall(command)
        flag = f"; the failing compile passes -std={standard[-1]}" if standard else ""
        return f"{match.group(1).strip().rstrip('.')} (in {where}){flag}"[:400]
    return "the build failed without a compiler error; see the log"


def _pip(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "pip", *args], check=True)


def _environ() -> dict[str, str]:
    return dict(os.environ)


STEPS = {"npm": npm, "tfjs": tfjs, "horovod": horovod}


def main(argv: list[str]) -> int:
    """Run the named steps in order."""
    unknown = [a for a in argv if a not in STEPS]
    if unknown or not argv:
        print(f"usage: python -m verify.run.probetools {{{','.join(STEPS)}}} ...", file=sys.stderr)
        return 2
    for step in argv:
        status = STEPS[step]()
        if step == "horovod" and status:
            print("Horovod did not build; its probe will report the reason above.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
