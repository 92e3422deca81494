import type { ModelView } from '../../../emulators/vertex-ai/control-schema';
import type { World } from '../world';
import { verdict, type InvariantResult } from './result';

// Each model-ready manifest names the version the registry's `champion` alias held when it was
// written (activities/model/announce.ts writes it right after moving the alias,
// workflows/support/publish-model.ts): the write time is the GCS generation's `updated`, the
// champion's moves are the emulator's alias history. `slackMs` covers the two clocks' resolution.

/** The intervals [from, to) in which each version held `champion`. */
export function championSpans(model: ModelView): { versionId: string; from: number; to: number }[] {
  const moves = model.aliasHistory.filter((c) => c.alias === 'champion');
  return moves.flatMap((c, i) =>
    c.versionId === null
      ? []
      : [
          {
            versionId: c.versionId,
            from: Date.parse(c.at),
            to: i + 1 < moves.length ? Date.parse(moves[i + 1]!.at) : Infinity,
          },
        ],
  );
}

export function manifestsNameTheChampion(world: World, slackMs = 1_000): InvariantResult {
  const models = new Map(world.models.map((m) => [m.name, m]));
  const offenders = new Map<string, string>();
  const several = new Set(world.manifests.map((m) => m.uri).filter((u, i, all) => all.indexOf(u) !== i));
  for (const m of world.manifests) {
    const id = several.has(m.uri) && m.generation ? `${m.uri}#${m.generation}` : m.uri;
    if (m.error || !m.manifest) {
      offenders.set(id, m.error ?? 'unreadable');
      continue;
    }
    const { model, version } = m.manifest;
    const registered = model ? models.get(model) : undefined;
    if (!registered) {
      offenders.set(id, `names ${model}@${version}, which is not in the registry`);
      continue;
    }
    const at = m.writtenAt ?? NaN;
    const spans = championSpans(registered);
    const held = spans.some((s) => s.versionId === version && s.from <= at + slackMs && s.to >= at - slackMs);
    if (held) continue;
    const then = spans.find((s) => s.from <= at && at < s.to);
    offenders.set(
      id,
      `written ${new Date(at).toISOString()} naming version ${version}, but champion then was ${then ? `version ${then.versionId}` : 'no version'}`,
    );
  }
  return verdict(
    'manifests name the champion',
    "each model-ready manifest names the version the registry's champion alias held when it was written",
    world.manifests.length,
    offenders,
  );
}
