"""Exits 1, naming each difference, unless the running interpreter's environment holds exactly the
name==version pairs of the lock given as the only argument (a requirements.txt as
scripts/python-lock.sh writes it). Run it with the venv's own interpreter, isolated (python -I), so
that only the venv's site-packages count: see venv_matches_lock in scripts/lib.sh."""

import importlib.metadata
import re
import sys

# A pinned line of the lock: name, stripped extras if any, ==version, then hashes or a marker.
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)")


def normalize(name: str) -> str:
    # PEP 503: case, and runs of -, _ and . are not significant in a project's name.
    return re.sub(r"[-_.]+", "-", name).lower()


def pinned(lock_path: str) -> dict[str, str]:
    pins: dict[str, str] = {}
    with open(lock_path, encoding="utf-8") as lock:
        for number, line in enumerate(lock, 1):
            if not line.strip() or line[0] in "# \t" or line.startswith("--"):
                continue  # comments, hash and annotation continuations, options
            match = PIN.match(line)
            if not match:
                # A URL, path or unpinned requirement would make the check vacuous for it.
                sys.exit(f"{lock_path}:{number}: not a name==version pin: {line.strip()}")
            pins[normalize(match.group(1))] = match.group(2)
    return pins


def installed() -> dict[str, str]:
    return {normalize(dist.metadata["Name"]): dist.version for dist in importlib.metadata.distributions()}


def main() -> None:
    want, have = pinned(sys.argv[1]), installed()
    differences = [f"  not installed: {name}=={want[name]}" for name in sorted(want.keys() - have.keys())]
    differences += [f"  not in the lock: {name}=={have[name]}" for name in sorted(have.keys() - want.keys())]
    differences += [
        f"  {name}: {have[name]} installed, the lock pins {want[name]}"
        for name in sorted(want.keys() & have.keys())
        if have[name] != want[name]
    ]
    if differences:
        print("\n".join(differences))
        sys.exit(1)


main()
