// The soak's checker as a command: reads the ledger the driver wrote, checks the world it names and
// prints the result as JSON on stdout, a short summary on stderr; exit code 1 when an invariant fails.
//   npm run soak:check -- ledger.json [--allow-open] [--concurrency 16]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Storage } from '@google-cloud/storage';
import { Client, Connection } from '@temporalio/client';
import { VertexEmulatorControl } from '../../emulators/vertex-ai/control-client';
import { checkSoak } from './checker';
import { soakLedgerSchema } from './ledger';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { 'allow-open': { type: 'boolean', default: false }, concurrency: { type: 'string', default: '16' } },
});

async function main(): Promise<number> {
  const file = positionals[0];
  if (!file) {
    console.error('usage: npm run soak:check -- ledger.json [--allow-open] [--concurrency 16]');
    return 2;
  }
  const ledger = soakLedgerSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
  const connection = await Connection.connect({ address: ledger.stack.temporalAddress });
  try {
    const result = await checkSoak(
      ledger,
      {
        temporal: new Client({ connection, namespace: ledger.stack.namespace }),
        vertex: new VertexEmulatorControl(ledger.stack.vertexControlUrl),
        storage: new Storage({
          apiEndpoint: ledger.stack.gcsEndpoint,
          projectId: 'ct-local',
          useAuthWithCustomEndpoint: false,
        }),
      },
      { allowOpen: values['allow-open'], concurrency: Number(values.concurrency) },
    );
    console.log(JSON.stringify(result, null, 2));
    for (const i of result.invariants) console.error(`${i.ok ? 'ok  ' : 'FAIL'} ${i.name}: ${i.detail}`);
    const f = result.figures;
    console.error(
      `${f.read.executions} runs, ${f.jobs.total} jobs, ${f.read.histories} histories read in ${f.read.ms} ms; ` +
        `data-ready → job p50 ${f.dataReadyToJobCreatedMs.p50} ms p99 ${f.dataReadyToJobCreatedMs.p99} ms; ` +
        `end → noticed p50 ${f.endToNoticedMs.p50} ms p99 ${f.endToNoticedMs.p99} ms; ` +
        `history p99 ${f.history.events.p99} events, ${f.history.bytes.p99} bytes (max ${f.history.events.max}, ${f.history.bytes.max})`,
    );
    return result.ok ? 0 : 1;
  } finally {
    await connection.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(2);
  },
);
