// `ct`: the operator and integration CLI (commands in cli-program.ts).
//   npm run ct -- data-ready --env staging --dataset instagram_posts --partition 2026-11-21
//   npm run ct -- train --pipeline sns-engagement --env staging --partition 2026-11-21 --segment jp-instagram
import { runCli } from './cli-program';

void runCli(process.argv.slice(2), { out: (t) => console.log(t), err: (t) => console.error(t) }).then((code) => {
  // exitCode, not exit(): output still in a pipe's buffer is written before the process ends.
  process.exitCode = code;
});
