// The alert rules in observability/ as a team loads them: promtool (Debian's, scripts/prometheus.sh)
// checks them and runs their unit tests (input series, expected alerts). Each alert is then broken on
// purpose, one at a time, to show its unit tests notice: an alert no test can fire is untested.
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { parse, stringify } from 'yaml';
import { z } from 'zod';
import { promtoolBinary } from '../../stack/prometheus';

const dir = path.join(__dirname, '..', '..', 'observability');
const RulesFile = z.object({
  groups: z.array(
    z.object({ name: z.string(), rules: z.array(z.looseObject({ alert: z.string(), expr: z.string() })) }),
  ),
});

async function promtool(...args: string[]): Promise<{ ok: boolean; output: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(promtoolBinary(), args, { cwd: dir });
    return { ok: true, output: stdout + stderr };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; code?: unknown };
    if (e.code === 'ENOENT')
      throw new Error(`no promtool at ${promtoolBinary()}: run bash scripts/prometheus.sh`, { cause: err });
    return { ok: false, output: (e.stdout ?? '') + (e.stderr ?? '') };
  }
}

const rules = RulesFile.parse(parse(readFileSync(path.join(dir, 'alerts.yml'), 'utf8')));
const alerts = rules.groups.flatMap((g) => g.rules.map((r) => r.alert));

test('promtool check rules: the rules load', async () => {
  const r = await promtool('check', 'rules', 'alerts.yml');
  expect(r.output).toContain(`SUCCESS: ${alerts.length} rules found`);
  expect(r.ok).toBe(true);
});

test('promtool test rules: every alert fires on its input series and stays quiet short of it', async () => {
  const r = await promtool('test', 'rules', 'alerts.test.yml');
  expect(r.output).toContain('SUCCESS');
  expect(r.ok).toBe(true);
  const tested = new Set(
    z
      .object({ tests: z.array(z.object({ alert_rule_test: z.array(z.object({ alertname: z.string() })) })) })
      .parse(parse(readFileSync(path.join(dir, 'alerts.test.yml'), 'utf8')))
      .tests.flatMap((t) => t.alert_rule_test.map((a) => a.alertname)),
  );
  expect(alerts.filter((a) => !tested.has(a))).toEqual([]);
});

const mutations = alerts.flatMap((alert) => [
  [alert, 'never fires', 'vector(1) < 0'],
  [alert, 'always fires', 'vector(1)'],
]);

test.each(mutations)('%s, broken to one that %s, fails its unit tests', async (alert, _how, expr) => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'ct-alerts-'));
  const broken = {
    groups: rules.groups.map((g) => ({
      ...g,
      rules: g.rules.map((r) => (r.alert === alert ? { ...r, expr } : r)),
    })),
  };
  writeFileSync(path.join(tmp, 'alerts.yml'), stringify(broken));
  copyFileSync(path.join(dir, 'alerts.test.yml'), path.join(tmp, 'alerts.test.yml'));
  const { ok, output } = await promtool('test', 'rules', path.join(tmp, 'alerts.test.yml'));
  expect(ok).toBe(false);
  expect(output).toContain(`alertname: ${alert}`);
});
