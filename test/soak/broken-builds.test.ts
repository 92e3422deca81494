// The soak's deliberately broken builds (`npm run soak -- --break NAME`, bench/soak/broken-builds.ts)
// still fit the code they break: each replaces text found exactly once, so the demonstration that
// the checker catches a broken build does not rot as the workflow code moves on.
import { cpSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { applyBreak, brokenBuilds } from '../../bench/soak/broken-builds';
import { deployedChange, withoutDeployedChange } from '../../bench/soak/previous-build';
import { repoRoot } from '../../stack/tools';

test.each(Object.keys(brokenBuilds))('the broken build %s applies to the code as it is now', (name) => {
  const b = brokenBuilds[name]!;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ct-broken-'));
  cpSync(path.join(repoRoot, b.file), path.join(dir, b.file), { recursive: true });
  applyBreak(dir, name);
  const broken = readFileSync(path.join(dir, b.file), 'utf8');
  expect(broken).toContain(b.replace);
  expect(broken).not.toBe(readFileSync(path.join(repoRoot, b.file), 'utf8'));
  expect(b.breaks.length).toBeGreaterThan(0);
  // Applied twice, it refuses: the text it replaces is gone.
  expect(() => applyBreak(dir, name)).toThrow(/has 0 copies of the text it replaces/);
});

test('an unknown broken build is refused, naming those there are', () => {
  expect(() => applyBreak(os.tmpdir(), 'no-such-break')).toThrow(
    /no broken build no-such-break; there are cancel-skips-job/,
  );
});

test("the soak's old build is this code without the deployed change: its patched() gone, the rest as it is", () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ct-previous-'));
  cpSync(path.join(repoRoot, deployedChange.file), path.join(dir, deployedChange.file), { recursive: true });
  const now = readFileSync(path.join(dir, deployedChange.file), 'utf8');
  expect(now).toContain("patched('vertex-job-memo')");
  withoutDeployedChange(dir);
  const before = readFileSync(path.join(dir, deployedChange.file), 'utf8');
  expect(before).not.toContain("patched('vertex-job-memo')");
  expect(before).not.toContain('upsertMemo(');
  expect(before).toContain("this.setPhase('running');");
  expect(() => withoutDeployedChange(dir)).toThrow(/no longer has/);
});
