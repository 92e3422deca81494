# Shared by the provisioning scripts: one progress line per step, and errors that say what to do.
# Set LOG_PREFIX before sourcing (e.g. "tools", "kfp").

step() { printf '%s: %s\n' "$LOG_PREFIX" "$*" >&2; }

# die "what failed" "what to do" ["more to do" …]
die() {
  printf '\n%s: ERROR: %s\n' "$LOG_PREFIX" "$1" >&2
  shift
  for line in "$@"; do printf '%*s %s\n' "${#LOG_PREFIX}" '' "$line" >&2; done
  exit 1
}

elapsed() { echo "$(($(date +%s) - $1))s"; }

# uv, hash-pinned in scripts/uv.requirements.txt, compiles the Python locks (scripts/python-lock.sh).
# Its cache lives under .tools/ with the rest of the project's tools (UV_CACHE_DIR overrides), so a
# fresh clone starts cold, as CI does, and `rm -rf .tools` resets everything.
uv_cache() { echo "${UV_CACHE_DIR:-$root/.tools/uv-cache}"; }

# pinned_uv PYTHON: prints the path of the pinned uv, installing it into .tools/uv-venv first when
# it is missing, does not run, or scripts/uv.requirements.txt changed. uv's wheel has no
# dependencies, so pip with --no-deps --require-hashes installs that one wheel and resolves nothing;
# --only-binary keeps pip from building the sdist whose hash the lock also lists.
pinned_uv() {
  local python="$1" venv="$root/.tools/uv-venv" requirements="$root/scripts/uv.requirements.txt"
  local stamp want version t0
  [[ -f "$requirements" ]] || die "$requirements is missing." "Restore it from git (git checkout -- <file>)."
  version="$(sed -n 's/^uv==\([^ ]*\).*/\1/p' "$requirements")"
  want="$(sha256sum "$requirements" | cut -d' ' -f1)"
  stamp="$venv/.requirements.sha256"
  if [[ "$(cat "$stamp" 2>/dev/null)" == "$want" && "$("$venv/bin/uv" --version 2>/dev/null)" == "uv $version "* ]]; then
    echo "$venv/bin/uv"
    return 0
  fi
  t0=$(date +%s)
  step "installing uv $version, the Python installer, into .tools/uv-venv (hash-pinned, scripts/uv.requirements.txt)…"
  command -v "$python" >/dev/null || die "$python is needed to install uv." \
    "Install Python 3.11 with venv (apt-get install python3 python3-venv), or set the override this script names."
  rm -rf "$venv"
  mkdir -p "$(dirname "$venv")"
  "$python" -m venv "$venv" >&2 || die "$python -m venv failed." "On Debian: apt-get install python3-venv."
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
    --require-hashes -r "$requirements" >&2 ||
    die "pip could not install uv $version from scripts/uv.requirements.txt (no wheel for this platform, or PyPI unreachable)." \
      "Check that PyPI is reachable (pip config list); the file lists the hashes of every wheel uv $version has."
  [[ "$("$venv/bin/uv" --version 2>/dev/null)" == "uv $version "* ]] || die "the installed uv does not run as uv $version." \
    "Run $venv/bin/uv --version to see why."
  printf '%s\n' "$want" >"$stamp"
  step "ok: uv $version ready in $(elapsed "$t0")"
  echo "$venv/bin/uv"
}

# pinned_venv VENV REQUIREMENTS PYTHON WHAT PROBE
# A venv holding exactly the hash-pinned REQUIREMENTS: pip --require-hashes installs every package,
# transitive ones included, as compiled and checked, and resolves nothing at install time. Rebuilt
# only when the requirements' sha256 or the interpreter's version differs from the stamp written
# after the last good install (so a warm run costs nothing), or when the venv no longer runs (a
# removed or upgraded base Python leaves symlinks pointing nowhere). PROBE is a command (a shell
# function, say) run after an install, with the venv as its argument: it dies if the venv is unfit.
pinned_venv() {
  local venv="$1" requirements="$2" python="$3" what="$4" probe="$5"
  local stamp="$venv/.requirements.sha256" want py_version t0
  [[ -f "$requirements" ]] || die "$requirements is missing." "Restore it from git (git checkout -- <file>)."
  command -v "$python" >/dev/null || die "$python is needed to build the $what venv." \
    "Install Python 3.11 with venv (apt-get install python3 python3-venv), or set the override this script names."
  py_version="$("$python" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')" || die "$python does not run."
  want="$(sha256sum "$requirements" | cut -d' ' -f1) $py_version"
  if [[ "$(cat "$stamp" 2>/dev/null)" == "$want" ]] && "$venv/bin/python" -c '' 2>/dev/null; then
    step "ok: $what venv up to date (${venv#"$root/"})"
    return 0
  fi
  t0=$(date +%s)
  [[ "$py_version" == 3.11.* ]] ||
    step "note: $python is Python $py_version; the requirements are compiled for 3.11, so pip may find no matching wheel"
  step "creating ${venv#"$root/"} with $python ($py_version) and installing $what (hash-pinned, ${requirements#"$root/"})…"
  rm -rf "$venv"
  mkdir -p "$(dirname "$venv")"
  "$python" -m venv "$venv" >&2 || die "$python -m venv failed." "On Debian: apt-get install python3-venv."
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --require-hashes -r "$requirements" >&2 ||
    die "pip could not install ${requirements#"$root/"} (the venv is left unstamped, so the next run starts over)." \
      "Check that PyPI is reachable (pip config list). After a hash mismatch, regenerate the file from its" \
      "requirements.in with the command at its top (bash scripts/python-lock.sh …), then rerun."
  "$probe" "$venv"
  printf '%s\n' "$want" >"$stamp"
  step "ok: $what ready in $(elapsed "$t0") (${venv#"$root/"})"
}
