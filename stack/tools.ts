import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

export const repoRoot = path.resolve(__dirname, '..');

const ToolPaths = z.object({ temporal: z.string().min(1), fakeGcsServer: z.string().min(1) });
export type ToolPaths = z.infer<typeof ToolPaths>;

/** Paths written by scripts/tools.sh (run by predev/pretest), the single place they are decided. */
export function readToolPaths(): ToolPaths {
  const file = path.join(repoRoot, '.tools', 'tools.json');
  let raw: string;
  try {
    raw = readFileSync(file, 'utf8');
  } catch {
    throw new Error(`${file} is missing: run \`bash scripts/tools.sh\` (npm run dev and npm test do it first).`);
  }
  return ToolPaths.parse(JSON.parse(raw));
}
