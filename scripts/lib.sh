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

# apt_install PACKAGE "what to do instead": Debian's PACKAGE with apt-get (via sudo -n when not
# root), updating the package lists once if the first try fails; the log is /tmp/ct-apt-PACKAGE.log.
apt_install() {
  local package="$1" otherwise="$2" log="/tmp/ct-apt-$1.log" sudo=()
  command -v apt-get >/dev/null || die "no $package here and no apt-get to install it" "$otherwise"
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || die "installing $package needs root" "run: sudo apt-get install -y $package"
    sudo=(sudo -n)
  fi
  local t
  t=$(date +%s)
  step "installing Debian's $package (apt-get)…"
  local install=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$package")
  if ! "${install[@]}" >"$log" 2>&1; then
    "${sudo[@]}" apt-get update >>"$log" 2>&1 || true
    "${install[@]}" >>"$log" 2>&1 || die "apt-get install $package failed (log: $log)" "install it by hand: apt-get install $package"
  fi
  step "$package installed in $(elapsed "$t")"
}

# Every Python venv is installed by uv, itself hash-pinned in scripts/uv.requirements.txt: pip (23.2,
# what `python3 -m venv` brings) re-resolves a dependency's `pkg[extra]>=x` against the registry
# even when the lock pins pkg, takes the newest release and then refuses it under --require-hashes;
# `uv pip sync` installs the lock's list as it stands and resolves nothing. Its cache lives under
# .tools/ with the rest of the project's tools (UV_CACHE_DIR overrides), so a fresh clone starts
# cold, as CI does, and `rm -rf .tools` resets everything.
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

# venv_matches_lock VENV REQUIREMENTS: dies naming each difference unless the packages installed in
# VENV are exactly REQUIREMENTS' name==version pairs: the proof that the installer resolved nothing
# (no package added, none swapped for another release). Read with the venv's own interpreter and
# importlib.metadata (isolated: no PYTHONPATH, no user site), not through the installer it checks.
venv_matches_lock() {
  local venv="$1" requirements="$2" differences
  local -a lines
  differences="$("$venv/bin/python" -I "$root/scripts/venv-matches-lock.py" "$requirements" 2>&1)" && return 0
  mapfile -t lines <<<"$differences"
  die "${venv#"$root/"} does not hold exactly what ${requirements#"$root/"} pins:" "${lines[@]}" \
      "Nothing may be resolved at install time: rerun to rebuild the venv; if it persists, regenerate the" \
      "lock with the command at its top."
}

# pinned_venv VENV REQUIREMENTS PYTHON WHAT PROBE [BUILD_CONSTRAINTS]
# A venv holding exactly the hash-pinned REQUIREMENTS: `uv pip sync --require-hashes` installs the
# listed packages, transitive ones included, as compiled and checked, resolves nothing at install
# time, and removes anything else. Only wheels are installed, unless BUILD_CONSTRAINTS names a
# hash-pinned lock of what building the lock's sdists needs (so the build environment is pinned
# too: --require-build-hashes refuses any build dependency it lacks). Rebuilt only when the
# requirements' sha256 or the interpreter's version differs from the stamp written after the last
# good install (so a warm run costs nothing), or when the venv no longer runs (a removed or
# upgraded base Python leaves symlinks pointing nowhere). After the install, `uv pip check` and
# venv_matches_lock must pass, and then PROBE, a command (a shell function, say) run with the venv
# as its argument, which dies if the venv is unfit.
pinned_venv() {
  local venv="$1" requirements="$2" python="$3" what="$4" probe="$5" build_constraints="${6:-}"
  local stamp="$venv/.requirements.sha256" want py_version interpreter uv conflicts t0
  local -a build=(--no-build)
  [[ -f "$requirements" ]] || die "$requirements is missing." "Restore it from git (git checkout -- <file>)."
  command -v "$python" >/dev/null || die "$python is needed to build the $what venv." \
    "Install Python 3.11 with venv (apt-get install python3 python3-venv), or set the override this script names."
  py_version="$("$python" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')" || die "$python does not run."
  # The installer's own lock is part of the stamp: a venv built by another installer, or another
  # release of uv, is rebuilt.
  want="$(sha256sum "$requirements" ${build_constraints:+"$build_constraints"} "$root/scripts/uv.requirements.txt" |
    cut -d' ' -f1 | tr '\n' ' ')$py_version"
  if [[ "$(cat "$stamp" 2>/dev/null)" == "$want" ]] && "$venv/bin/python" -c '' 2>/dev/null; then
    step "ok: $what venv up to date (${venv#"$root/"})"
    return 0
  fi
  if [[ -n "$build_constraints" ]]; then
    [[ -f "$build_constraints" ]] || die "$build_constraints is missing." "Restore it from git (git checkout -- <file>)."
    build=(--build-constraints "$build_constraints" --require-build-hashes)
  fi
  uv="$(pinned_uv "$python")"
  t0=$(date +%s)
  [[ "$py_version" == 3.11.* ]] ||
    step "note: $python is Python $py_version; the requirements are compiled for 3.11, so uv may find no matching wheel"
  step "creating ${venv#"$root/"} with $python ($py_version) and installing $what (hash-pinned, ${requirements#"$root/"})…"
  # uv is handed the interpreter itself, not a wrapper such as a pyenv shim, and may not fetch one.
  interpreter="$("$python" -c 'import sys; print(sys.executable)')"
  rm -rf "$venv"
  mkdir -p "$(dirname "$venv")"
  "$uv" venv --quiet --no-config --no-python-downloads --python "$interpreter" "$venv" >&2 ||
    die "uv venv --python $interpreter failed (see above)."
  # --no-config: no uv.toml of the user's may change what is installed. --compile-bytecode, as pip
  # did: where PYTHONDONTWRITEBYTECODE is set (these machines set it, and so do the tests that run
  # pytest) a module compiled on import is never saved, and every airflow process would compile its
  # imports again (`airflow version` takes 4.7 s instead of 2).
  "$uv" pip sync --quiet --no-config --no-python-downloads --python "$venv/bin/python" --cache-dir "$(uv_cache)" \
    --require-hashes "${build[@]}" --compile-bytecode "$requirements" >&2 ||
    die "uv could not install ${requirements#"$root/"} (the venv is left unstamped, so the next run starts over)." \
      "Check that PyPI is reachable. After a hash mismatch, or if a package has no wheel for this platform," \
      "regenerate the file with the command at its top (bash scripts/python-lock.sh …), then rerun."
  conflicts="$("$uv" pip check --no-config --python "$venv/bin/python" 2>&1)" ||
    die "the installed packages conflict (uv pip check failed):" "$conflicts"
  venv_matches_lock "$venv" "$requirements"
  "$probe" "$venv"
  printf '%s\n' "$want" >"$stamp"
  step "ok: $what ready in $(elapsed "$t0") (${venv#"$root/"})"
}
