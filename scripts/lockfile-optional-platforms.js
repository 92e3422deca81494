#!/usr/bin/env node
// Completes package-lock.json with the platform-specific optional packages that the package
// registry reachable from our machines does not serve (e.g. @swc/core-darwin-arm64). npm install
// drops them from the lock when it cannot fetch their manifests, and then `npm ci` refuses the
// lock as "out of sync". Each is recorded with the os/cpu its name declares, so npm skips it on
// every other platform without a fetch, as a lock written against the full registry would.
// Run after `npm install` changes the lock: `node scripts/lockfile-optional-platforms.js`.
const fs = require('node:fs');
const path = require('node:path');

const lockPath = path.join(__dirname, '..', 'package-lock.json');
const lock = JSON.parse(fs.readFileSync(lockPath, 'utf8'));
const OS = ['darwin', 'linux', 'win32', 'android', 'freebsd', 'openharmony', 'netbsd', 'openbsd', 'sunos', 'aix'];
const CPU = ['arm64', 'x64', 'ia32', 'arm', 'ppc64', 's390x', 'riscv64', 'loong64', 'mips64el', 'wasm32'];

function platformOf(name) {
  const parts = name.split('/').pop().split('-');
  const os = parts.find((p) => OS.includes(p));
  const cpu = parts.find((p) => CPU.includes(p));
  const libc = parts.find((p) => p === 'gnu' || p === 'musl' || p.startsWith('gnueabi') || p.startsWith('musleabi'));
  return { os, cpu, libc: libc && (libc.startsWith('musl') ? 'musl' : 'glibc') };
}

function resolveFrom(pkgPath, dep) {
  // Node's lookup: nearest node_modules upwards from the dependent.
  let dir = pkgPath;
  for (;;) {
    const candidate = dir ? `${dir}/node_modules/${dep}` : `node_modules/${dep}`;
    if (lock.packages[candidate]) return candidate;
    if (!dir) return null;
    const idx = dir.lastIndexOf('/node_modules/');
    dir = idx === -1 ? '' : dir.slice(0, idx);
  }
}

let added = 0;
for (const [pkgPath, meta] of Object.entries(lock.packages)) {
  for (const [dep, version] of Object.entries(meta.optionalDependencies ?? {})) {
    if (resolveFrom(pkgPath, dep)) continue;
    const { os, cpu, libc } = platformOf(dep);
    if (!os && !cpu) {
      console.error(
        `lockfile: ${dep} (optional dep of ${pkgPath || 'root'}) is missing and names no platform; left alone`,
      );
      continue;
    }
    lock.packages[`node_modules/${dep}`] = {
      version,
      optional: true,
      ...(os ? { os: [os] } : {}),
      ...(cpu ? { cpu: [cpu] } : {}),
      ...(libc ? { libc: [libc] } : {}),
    };
    added++;
  }
}
lock.packages = Object.fromEntries(
  Object.entries(lock.packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))),
);
fs.writeFileSync(lockPath, JSON.stringify(lock, null, 2) + '\n');
console.log(`lockfile: recorded ${added} platform-specific optional package(s) the registry does not serve`);
