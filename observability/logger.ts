import { DefaultLogger, type Logger } from '@temporalio/worker';
import { formatJson, formatPretty, type Level } from './log-format';

// The worker's logger: the SDK's DefaultLogger (level filter, ordering timestamps) with a function of
// ours that writes each entry as one line to stderr (stdout stays free, as for the SDK's default).

export function createLogger(opts: {
  format: 'json' | 'pretty';
  level: Level;
  write?: (line: string) => void;
}): Logger {
  const format = opts.format === 'json' ? formatJson : formatPretty;
  const write = opts.write ?? ((line: string) => void process.stderr.write(`${line}\n`));
  return new DefaultLogger(opts.level, (entry) =>
    write(
      format({
        time: new Date(Number(entry.timestampNanos / 1_000_000n)),
        level: entry.level,
        message: entry.message,
        meta: entry.meta,
      }),
    ),
  );
}
