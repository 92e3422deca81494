#!/usr/bin/env node
// `npx ct …` from a clone: runs client/cli/main.ts through tsx with the project's pinned Node.
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const root = path.join(__dirname, '..');
const node = path.join(root, 'node_modules', 'node', 'bin', 'node');
const tsx = path.join(root, 'node_modules', 'tsx', require(path.join(root, 'node_modules', 'tsx', 'package.json')).bin);
const res = spawnSync(
  require('node:fs').existsSync(node) ? node : process.execPath,
  [tsx, path.join(root, 'client', 'cli', 'main.ts'), ...process.argv.slice(2)],
  {
    stdio: 'inherit',
    cwd: process.cwd(),
  },
);
process.exit(res.status ?? 1);
