import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { repoRoot } from './tools';

const ClusterTools = z.object({
  temporalVersion: z.string().min(1),
  temporalServer: z.string().min(1),
  temporalSqlTool: z.string().min(1),
  postgresBin: z.string().min(1),
});
export type ClusterTools = z.infer<typeof ClusterTools>;

export const clusterToolsFile = path.join(repoRoot, '.tools', 'cluster-tools.json');

/** Paths written by scripts/temporal-cluster-tools.sh (run by prestack:prod and .ci/run). */
export function readClusterTools(): ClusterTools {
  let raw: string;
  try {
    raw = readFileSync(clusterToolsFile, 'utf8');
  } catch {
    throw new Error(
      `${clusterToolsFile} is missing: run \`bash scripts/temporal-cluster-tools.sh\` (npm run stack:prod does it first).`,
    );
  }
  return ClusterTools.parse(JSON.parse(raw));
}
