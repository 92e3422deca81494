// Every Python venv of the project is built by pinned_venv (scripts/lib.sh) from a hash-pinned lock,
// and must hold exactly that lock: nothing may be resolved against the registry at install time.
// The fixture lock (test/fixtures/python-lock-extra) has the shape that broke the Airflow and
// google-cloud-aiplatform venvs: a dependency asks for a package with an extra (pytest-cov needs
// coverage[toml]>=7.10.6) while the lock pins that package below PyPI's newest. pip 23.2 resolves
// the extra afresh, takes the newest coverage and refuses it under --require-hashes; this shows
// that it still does, and that pinned_venv installs the lock as written. Needs PyPI, as CI has.
import { runCommand } from './helpers/run-command';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

jest.setTimeout(180_000);

const root = path.join(__dirname, '..');
const fixture = path.join(root, 'test', 'fixtures', 'python-lock-extra');
const lock = path.join(fixture, 'requirements.txt');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'ct-python-locks-'));
const venv = path.join(tmp, 'venv');

// A cache of the test's own, so every wheel comes from the registry and is checked against the lock.
const run = (command: string, args: string[]) =>
  runCommand(command, args, { env: { ...process.env, UV_CACHE_DIR: path.join(tmp, 'uv-cache') } });

/** Runs one function of scripts/lib.sh, sourced as the provisioning scripts source it. */
const libSh = (fn: string, ...args: string[]) =>
  run('bash', [
    '-c',
    'set -euo pipefail; root="$1"; LOG_PREFIX=python-locks; source "$root/scripts/lib.sh"; fits() { :; }; shift; "$@"',
    'bash',
    root,
    fn,
    ...args,
  ]);

const pinnedVenv = (dir: string, requirements: string) =>
  libSh('pinned_venv', dir, requirements, 'python3', 'the fixture', 'fits');

/** The lock's name==version pairs, names normalized as PEP 503 says. */
function pins(file: string): string[] {
  const lines = readFileSync(file, 'utf8').split('\n');
  return lines
    .map((line) => /^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)/.exec(line))
    .filter((m) => m !== null)
    .map((m) => `${m[1]!.replace(/[-_.]+/g, '-').toLowerCase()}==${m[2]}`)
    .sort();
}

/** What a venv holds, read by its own interpreter (isolated), not by the installer that built it. */
async function installed(dir: string): Promise<string[]> {
  const list = `import importlib.metadata as m, json, re
print(json.dumps(sorted({re.sub(r"[-_.]+", "-", d.metadata["Name"]).lower() + "==" + d.version for d in m.distributions()})))`;
  const { code, output } = await run(path.join(dir, 'bin', 'python'), ['-I', '-c', list]);
  if (code !== 0) throw new Error(`listing ${dir} failed:\n${output}`);
  return JSON.parse(output) as string[];
}

let built: { code: number | null; output: string };

beforeAll(async () => {
  built = await pinnedVenv(venv, lock);
});

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

test('pinned_venv installs exactly the lock: coverage as pinned, though pytest-cov asks for coverage[toml] and PyPI has newer', async () => {
  if (built.code !== 0) throw new Error(`pinned_venv failed:\n${built.output}`);
  expect(pins(lock)).toContain('coverage==7.10.7');
  expect(await installed(venv)).toEqual(pins(lock));
});

test('pip 23.2 on the same lock resolves coverage[toml] against PyPI, takes a newer coverage, and refuses it', async () => {
  const pip23 = path.join(tmp, 'pip23');
  const made = await pinnedVenv(pip23, path.join(fixture, 'pip23.txt'));
  if (made.code !== 0) throw new Error(`pinned_venv failed:\n${made.output}`);
  const { code, output } = await run(path.join(pip23, 'bin', 'python'), [
    '-m',
    'pip',
    'install',
    '--disable-pip-version-check',
    '--cache-dir',
    path.join(tmp, 'pip-cache'),
    '--require-hashes',
    '-r',
    lock,
  ]);
  expect(code).not.toBe(0);
  expect(output).toContain('In --require-hashes mode, all requirements must have their versions pinned with ==');
  const picked = /coverage\[toml\]>=[\d.]+ from \S*\/coverage-([^-]+)-/.exec(output);
  if (!picked) throw new Error(`pip failed otherwise than by resolving coverage[toml]:\n${output}`);
  expect(picked[1]).not.toBe('7.10.7');
  // It installed nothing: the venv still holds only pip.
  expect(await installed(pip23)).toEqual(['pip==23.2.1']);
});

test('the install guard names a package the venv lacks, one it has beyond the lock, and a release that differs', async () => {
  if (built.code !== 0) throw new Error(`pinned_venv failed:\n${built.output}`);
  expect(await libSh('venv_matches_lock', venv, lock)).toEqual({ code: 0, output: '' });

  const altered = path.join(tmp, 'altered.txt');
  const text = readFileSync(lock, 'utf8')
    .replace(/^pluggy==.*(\n {4}.*)*/m, '')
    .replace(/^coverage==7\.10\.7/m, 'coverage==7.18.0')
    .concat('six==1.17.0 \\\n    --hash=sha256:0000000000000000000000000000000000000000000000000000000000000000\n');
  writeFileSync(altered, text);
  const { code, output } = await libSh('venv_matches_lock', venv, altered);
  expect(code).toBe(1);
  expect(output).toContain('does not hold exactly what');
  expect(output).toContain('not installed: six==1.17.0');
  expect(output).toContain('not in the lock: pluggy==1.7.0');
  expect(output).toContain('coverage: 7.10.7 installed, the lock pins 7.18.0');
});
