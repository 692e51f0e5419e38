"""Shared helpers for the checks against other runtimes (transformers, gguf, llama.cpp).

Each check runs where its Python packages are installed (scripts/test.sh installs them into a
cached venv). Elsewhere it skips with a visible message, except under CI=true, where a missing
package is a failure: CI must really compare.
"""
import os
import subprocess
import sys

SKIP = 77  # ctest SKIP_RETURN_CODE


def require(*modules):
    missing = []
    for name in modules:
        try:
            __import__(name)
        except Exception as e:  # ImportError or a broken install
            missing.append(f"{name} ({e.__class__.__name__}: {e})")
    if missing:
        unavailable("missing Python packages: " + ", ".join(missing))


def unavailable(message):
    """Skips the check (exit 77) because `message` names something missing; under CI=true, fails."""
    if os.environ.get("CI") == "true":
        print(f"FAIL: {message}; CI must run this check (scripts/test.sh installs it)", flush=True)
        sys.exit(1)
    print(f"SKIP: {message}; run scripts/test.sh to install it", flush=True)
    sys.exit(SKIP)


def run(cmd):
    """Runs a longrope command, failing with its output when it fails."""
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        print("command failed:", " ".join(map(str, cmd)), "\n", proc.stdout, proc.stderr, flush=True)
        sys.exit(1)
    return proc.stdout
