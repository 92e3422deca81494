// `ct`: the operator and integration CLI (commands in client/cli/program.ts and the modules it wires).
//   npm run ct -- data-ready --env staging --dataset instagram_posts --partition 2026-11-21
//   npm run ct -- train --pipeline sns-engagement --env staging --partition 2026-11-21 --segment jp-instagram
import { formatJson } from '../../observability/log-format';
import { runCli } from './program';

// Diagnostics on stderr are plain text for a person at a terminal; for a script or a scheduler
// (stdout not a terminal) each is one JSON object per line. CT_LOG_FORMAT=json|pretty decides instead.
const format = process.env.CT_LOG_FORMAT || (process.stdout.isTTY ? 'pretty' : 'json');
const args = process.argv.slice(2);
// The command named (the first word that is neither an option nor --config's value), for the log line.
const command = args.find((a, i) => !a.startsWith('-') && args[i - 1] !== '--config');
const err = (text: string, level: 'INFO' | 'ERROR' = 'ERROR') =>
  console.error(format === 'json' ? formatJson({ time: new Date(), level, message: text, meta: { command } }) : text);

void runCli(args, { out: (t) => console.log(t), err }).then((code) => {
  // exitCode, not exit(): output still in a pipe's buffer is written before the process ends.
  process.exitCode = code;
});
