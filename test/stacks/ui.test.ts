// The Temporal UI as operators use it, in a real browser: Debian's Chromium driven by
// playwright-core (never a downloaded browser). Start a trainingRun from the Start Workflow form,
// see its summary and current details, find it by a search-attribute filter, cancel it with the
// UI's button, and check the emulator saw the Vertex cancel; then a canary rollout's details, found
// by its phase and cancelled to a rollback. Screenshots: test-results/ui/.
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { chromium, type Browser, type Page } from 'playwright-core';
import { freePort } from '../../stack/process';
import { startTemporalDevServer, type TemporalDevServer } from '../../stack/temporal-server';
import { readToolPaths } from '../../stack/tools';
import { uniquePartition } from '../helpers/isolation';
import { customJobTraining, monthlyData, projectWith } from '../helpers/pipelines';
import { uniqueId } from '../helpers/temporal';
import { eventually } from '../helpers/eventually';
import { emulatorControl, vertexClients } from '../helpers/vertex';
import { rollOut, rolloutUntil, servedProject, servingV1 } from '../helpers/serving-steps';
import { startWorkerProcess } from '../helpers/worker-process';

jest.setTimeout(180_000);

const CHROMIUM = process.env.CT_CHROMIUM_PATH ?? '/usr/bin/chromium';
const shots = path.join(__dirname, '..', '..', 'test-results', 'ui');
const available = existsSync(CHROMIUM);
if (!available) {
  // In CI this is a failure (.ci/run installs chromium); elsewhere, say why the suite does not run.
  if (process.env.CI)
    throw new Error(`Chromium not found at ${CHROMIUM}: .ci/run installs it with apt-get install chromium`);
  console.warn(
    `stacks/ui.test.ts: skipped — no Chromium at ${CHROMIUM} (apt-get install chromium, or set CT_CHROMIUM_PATH)`,
  );
}
// Outside CI without Chromium the suite is skipped, and its name says so in the report.
const uiTest = (name: string, fn: () => Promise<void>) =>
  available ? test(name, fn) : test.skip(`${name} [skipped: no Chromium at ${CHROMIUM}]`, fn);

let server: TemporalDevServer;
let browser: Browser;
beforeAll(async () => {
  if (!available) return;
  mkdirSync(shots, { recursive: true });
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'ct-ui-'));
  server = await startTemporalDevServer({
    binary: readToolPaths().temporal,
    ip: '127.0.0.1',
    port: await freePort(),
    httpPort: await freePort(),
    metricsPort: await freePort(),
    uiPort: await freePort(),
    namespace: 'ct-test',
    logFile: path.join(tmp, 'temporal.log'),
  });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
});
afterAll(async () => {
  await browser?.close();
  await server?.service.stop();
});

/** A client of the UI's own server (the test stack's server is another). */
async function connectClient(address: string) {
  const connection = await Connection.connect({ address });
  return { client: new Client({ connection, namespace: 'ct-test' }), close: () => connection.close() };
}

const shot = (page: Page, name: string) => page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });

uiTest('start from the form, watch, filter, cancel from the UI: the Vertex job is cancelled', async () => {
  const taskQueue = uniqueId('ui');
  // A monthly CustomJob with two attempts (the run's details say "attempt 1/2").
  const iso = projectWith({
    churn: { data: monthlyData(['creator_activity']), training: customJobTraining, retry: { maxAttempts: 2 } },
  });
  const month = uniquePartition('monthly');
  await emulatorControl().addRule({ match: { project: iso.project }, script: { holdIn: 'RUNNING' } });
  const worker = await startWorkerProcess({
    taskQueue,
    address: server.address,
    namespace: 'ct-test',
    configPath: iso.configPath,
  });
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  try {
    const workflowId = `training:staging:churn:all:${month}`;
    await page.goto(`${server.uiUrl}/namespaces/ct-test/workflows/start-workflow`);
    await page.getByRole('textbox', { name: 'Workflow ID' }).fill(workflowId);
    await page.getByRole('textbox', { name: 'Task Queue' }).fill(taskQueue);
    await page.getByRole('textbox', { name: 'Workflow Type' }).fill('trainingRun');
    await page
      .getByRole('textbox', { name: 'Data' })
      .fill(JSON.stringify({ pipeline: 'churn', environment: 'staging', partition: month, assumeDataReady: true }));
    // Leave the editor first: the form takes its values on blur (and puts them in the URL).
    await page.getByRole('heading', { name: 'Start Workflow' }).click();
    // More options: the run's summary (user metadata), as an operator would note why they started it.
    const summary = `churn ${month}: retrain after the late creator_activity load`;
    await page.getByText('More options').click();
    const editors = page.locator('main [contenteditable]');
    await editors.nth(-2).click(); // Summary, then Details
    await page.keyboard.type(summary);
    await page.getByRole('heading', { name: 'Start Workflow' }).click();
    await shot(page, '1-start-form');
    const started = page.waitForResponse(
      (r) => r.request().method() === 'POST' && r.url().includes(`/workflows/${encodeURIComponent(workflowId)}`),
    );
    await page.getByRole('button', { name: 'Start Workflow' }).click();
    expect((await started).status()).toBe(200);

    // The run's page: running, its type, and the current details it writes (phase, data, Vertex job and link).
    const runPage = `${server.uiUrl}/namespaces/ct-test/workflows/${encodeURIComponent(workflowId)}`;
    await page.goto(runPage);
    await page.getByRole('status').filter({ hasText: 'Running' }).waitFor();
    await page.getByRole('link', { name: 'trainingRun' }).first().waitFor();
    await page.getByRole('tab', { name: 'User Metadata' }).click();
    const details = page.frameLocator('#user-metadata-current-details').locator('body');
    const text = await eventually(async () => {
      await page.keyboard.press('r'); // the UI refreshes current details on R
      const t = await details.innerText();
      // The UI typesets "1/2" with a fraction slash (U+2044).
      return /Vertex AI CustomJob attempt 1\u20442 \(last seen \w+\)/.test(t) ? t : undefined;
    }, 30_000);
    expect(text).toContain(`Training on Vertex AI · churn · staging · partition ${month}`);
    // Its cost so far, as the last line (workflows/interceptors/run-cost.ts).
    expect(text.trim().split('\n').at(-1)).toMatch(
      /^Cost so far: \d+ Temporal actions [\d.e-]+ \+ Vertex [\d.e-]+ = [\d.e-]+ USD$/,
    );
    expect((await page.frameLocator('#user-metadata-summary').locator('body').innerText()).trim()).toBe(summary);
    expect(await details.getByRole('link', { name: 'open in the console' }).getAttribute('href')).toMatch(
      new RegExp(
        `^https://console\\.cloud\\.google\\.com/vertex-ai/locations/us-central1/training/\\d+/cpu\\?project=${iso.project}$`,
      ),
    );
    await shot(page, '2-run-current-details');

    // Found with a search-attribute filter in the workflow list.
    await page.goto(
      `${server.uiUrl}/namespaces/ct-test/workflows?query=${encodeURIComponent(`pipeline = "churn" AND partition = "${month}" AND runPhase = "running"`)}`,
    );
    const row = page.getByRole('table', { name: 'Workflows' }).getByRole('link', { name: workflowId });
    await eventually(async () => ((await row.count()) > 0 ? true : undefined), 30_000);
    expect(await page.getByRole('table', { name: 'Workflows' }).getByRole('row').count()).toBe(2); // header + this run
    await shot(page, '3-filtered-list');

    // Cancelled with the UI's button: the run cancels its Vertex job and ends Canceled.
    await row.first().click();
    await page.getByRole('button', { name: 'Request Cancellation' }).click();
    const dialog = page.getByRole('dialog', { name: 'Cancel Workflow' });
    await shot(page, '4-cancel-dialog');
    await dialog.getByRole('button', { name: 'Confirm' }).click();
    await eventually(async () => {
      await page.reload();
      // count() does not wait for the page to render; waitFor does.
      await page.locator('main').getByRole('status').filter({ hasText: 'Canceled' }).waitFor({ timeout: 5_000 });
      return true;
    }, 60_000);
    await shot(page, '5-cancelled');
    const jobs = await emulatorControl().jobs({ project: iso.project, labels: { 'ct-partition': month } });
    expect(jobs.map((j) => [j.state.replace('JOB_STATE_', ''), j.cancelRequested])).toEqual([['CANCELLED', true]]);
    const cancels = (await emulatorControl().calls({ method: 'CancelCustomJob', project: iso.project })).filter(
      (c) => (c.request as { name?: string }).name === jobs[0]!.name,
    );
    expect(cancels).toHaveLength(1);
  } finally {
    await page.close();
    await worker.stop();
    await iso.cleanup();
  }
});

uiTest(
  'a canary rollout in the UI: phase, split, health and endpoint link in its details, found by its phase, cancelled to a rollback',
  async () => {
    const served = servedProject({ watch: '10m' });
    const { iso } = served;
    const vertex = vertexClients();
    const { endpoint, old, v2, load } = await servingV1(vertex, served);
    const worker = await startWorkerProcess({
      taskQueue: iso.project,
      address: server.address,
      namespace: 'ct-test',
      configPath: iso.configPath,
    });
    const { client, close } = await connectClient(server.address);
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    try {
      const handle = await rollOut(client, served, v2.versionId);
      await rolloutUntil(handle, (s) => s.phase === 'canary' && !!s.health);
      const runPage = `${server.uiUrl}/namespaces/ct-test/workflows/${encodeURIComponent(handle.workflowId)}`;
      await page.goto(runPage);
      await page.getByRole('status').filter({ hasText: 'Running' }).waitFor();
      await page.getByRole('tab', { name: 'User Metadata' }).click();
      const details = page.frameLocator('#user-metadata-current-details').locator('body');
      const text = await eventually(async () => {
        await page.keyboard.press('r');
        const t = await details.innerText();
        return /Health at/.test(t) ? t : undefined;
      }, 30_000);
      expect(text).toContain(`Canary 50 % · ${served.pipeline} · staging · ${served.name}@${v2.versionId}`);
      expect(text).toContain(`50 % to deployed model ${old}`);
      expect(text).toMatch(/50 % to deployed model \d+ \(candidate\)/);
      expect(text).toMatch(/candidate \d+ predictions, \d+ errors, p95 [\d.]+ ms/);
      const endpointId = endpoint.split('/').pop()!;
      expect(await details.getByRole('link', { name: 'open in the console' }).getAttribute('href')).toBe(
        `https://console.cloud.google.com/vertex-ai/locations/us-central1/endpoints/${endpointId}?project=${iso.project}`,
      );
      await shot(page, 'rollout-1-canary');

      await page.goto(
        `${server.uiUrl}/namespaces/ct-test/workflows?query=${encodeURIComponent(`WorkflowType = "modelRollout" AND pipeline = "${served.pipeline}" AND runPhase = "canary-50"`)}`,
      );
      const row = page.getByRole('table', { name: 'Workflows' }).getByRole('link', { name: handle.workflowId });
      await eventually(async () => ((await row.count()) > 0 ? true : undefined), 30_000);

      await row.first().click();
      await page.getByRole('button', { name: 'Request Cancellation' }).click();
      await page.getByRole('dialog', { name: 'Cancel Workflow' }).getByRole('button', { name: 'Confirm' }).click();
      await eventually(async () => {
        await page.reload();
        await page.locator('main').getByRole('status').filter({ hasText: 'Canceled' }).waitFor({ timeout: 5_000 });
        return true;
      }, 60_000);
      await shot(page, 'rollout-2-cancelled');
      const after = (await vertex.endpoints.getEndpoint({ name: endpoint }))[0];
      expect(after.trafficSplit).toEqual({ [old]: 100 });
      expect(after.deployedModels!.map((d) => d.id)).toEqual([old]);
    } finally {
      await load.stop();
      await page.close();
      await close();
      await worker.stop();
      await vertex.close();
      await iso.cleanup();
    }
  },
);
