import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { isNode, LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { PipelineConfig } from './pipeline-config';

export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`${file}: invalid pipeline config\n${problems.map((p) => `  ${p}`).join('\n')}`);
  }
}

/** The clone's root: found upwards, so the compiled worker (dist/config/) reads the same file as tsx does. */
function packageRoot(dir: string): string {
  if (existsSync(path.join(dir, 'package.json'))) return dir;
  const parent = path.dirname(dir);
  return parent === dir ? path.join(__dirname, '..') : packageRoot(parent);
}

export const defaultConfigPath = path.join(packageRoot(__dirname), 'config', 'pipelines.yaml');

/** Parses config text; every problem names the file, line, the path inside it and what is wrong. */
export function parseConfig(text: string, file: string): z.output<typeof PipelineConfig> {
  const lines = new LineCounter();
  // merge: YAML merge keys (<<: *env) let environments share their common settings.
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: true, merge: true });
  if (doc.errors.length) {
    throw new ConfigError(
      file,
      doc.errors.map((e) => {
        const pos = e.linePos?.[0];
        return `${pos ? `line ${pos.line}:${pos.col}: ` : ''}${e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`;
      }),
    );
  }
  const result = PipelineConfig.safeParse(doc.toJS());
  if (result.success) return result.data;
  throw new ConfigError(
    file,
    result.error.issues.map((issue) => {
      const at = issue.path.map(String);
      // Point at the deepest node that exists (a missing key is reported at its parent).
      let line = '';
      for (let n = at.length; n >= 0; n--) {
        const node: unknown = doc.getIn(at.slice(0, n), true);
        if (isNode(node) && node.range) {
          const pos = lines.linePos(node.range[0]);
          line = `line ${pos.line}:${pos.col}: `;
          break;
        }
      }
      return `${line}${at.join('.') || '(top level)'}: ${issue.message}`;
    }),
  );
}

/** The config file a process reads: CT_CONFIG, else config/pipelines.yaml. */
export const configPath = (runtimeEnv: NodeJS.ProcessEnv = process.env) => runtimeEnv.CT_CONFIG || defaultConfigPath;

export function loadConfig(file = configPath()): z.output<typeof PipelineConfig> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, [`cannot read the file: ${(err as Error).message}`]);
  }
  return parseConfig(text, file);
}
