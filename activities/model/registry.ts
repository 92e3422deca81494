import type { VertexClientFactory } from '../../infra/vertex/clients';
import { modelVersionConsoleUrl } from '../../contracts';
import { grpcCode, vertexFailure } from '../vertex/errors';
import { isoTime } from '../vertex/progress';

// Vertex Model Registry: one model per pipeline (and segment), a new version per training run.
// UploadModel has no idempotency key, so each version carries the run's label and a retried
// registration first looks for it (ListModelVersions by label). The activity's timeout is far
// longer than an upload takes, so a retry after a worker died mid-upload finds the finished version.

export interface ModelRef {
  project: string;
  region: string;
  modelId: string;
}

export interface RegisteredVersion {
  /** The model's resource name as Vertex returned it (no @version). */
  model: string;
  versionId: string;
  /** True when an earlier attempt of this run had already registered it. */
  reused: boolean;
  /** The version's page in the Model Registry. */
  consoleUrl: string;
}

export interface RegisterRequest extends ModelRef {
  displayName: string;
  servingImage: string;
  artifactUri: string;
  labels: Record<string, string>;
  /** Unique to the training run (and attempt): how a retry finds the version it made. */
  runLabel: string;
  /** Kept in versionDescription: the next run compares against the champion's numbers. */
  metrics: Record<string, number>;
  partition: string;
}

export interface Champion {
  model: string;
  version: string;
  metrics: Record<string, number>;
  /** The partition it was trained on and when it was registered: how consumers judge freshness. */
  partition?: string;
  trainedAt?: string;
  aliases: string[];
}

const parentOf = (r: ModelRef) => `projects/${r.project}/locations/${r.region}`;
const modelName = (r: ModelRef) => `${parentOf(r)}/models/${r.modelId}`;
const registered = (r: ModelRef, model: string, versionId: string, reused: boolean): RegisteredVersion => ({
  model,
  versionId,
  reused,
  consoleUrl: modelVersionConsoleUrl(r.region, r.project, r.modelId, versionId),
});

export function createModelRegistryActivities(deps: { vertex: VertexClientFactory }) {
  const clients = (region: string) => deps.vertex(region).models;

  async function existingModel(r: ModelRef): Promise<string | undefined> {
    try {
      const [m] = await clients(r.region).getModel({ name: modelName(r) });
      return m.name ?? undefined;
    } catch (err) {
      if (grpcCode(err) === 5) return undefined;
      throw vertexFailure(err, `reading model ${r.modelId}`);
    }
  }

  return {
    /** The version holding the `champion` alias and the metrics it was registered with, if any. */
    findChampion: (r: ModelRef): Promise<Champion | null> => championOf(clients(r.region), r),

    async registerCandidate(req: RegisterRequest): Promise<RegisteredVersion> {
      const models = clients(req.region);
      for (let round = 0; round < 2; round++) {
        const existing = await existingModel(req);
        if (existing) {
          const [found] = await models
            .listModelVersions({ name: existing, filter: `labels.ct-run="${req.runLabel}"` })
            .catch((err: unknown) => {
              throw vertexFailure(err, `looking for this run's version of ${req.modelId}`);
            });
          if (found[0]) return registered(req, existing, found[0].versionId!, true);
        }
        try {
          const [op] = await models.uploadModel({
            parent: parentOf(req),
            ...(existing ? { parentModel: existing } : { modelId: req.modelId }),
            model: {
              displayName: req.displayName,
              artifactUri: req.artifactUri,
              containerSpec: { imageUri: req.servingImage },
              labels: { ...req.labels, 'ct-run': req.runLabel },
              versionAliases: ['candidate'],
              versionDescription: JSON.stringify({ metrics: req.metrics, partition: req.partition, run: req.runLabel }),
            },
          });
          const [res] = await op.promise();
          return registered(req, res.model!, res.modelVersionId!, false);
        } catch (err) {
          // Another run created the model between our look and our upload: look again, once.
          if (grpcCode(err) === 6 && round === 0) continue;
          throw vertexFailure(err, `registering a version of ${req.modelId}`);
        }
      }
      throw vertexFailure(new Error('the model kept changing under us'), `registering a version of ${req.modelId}`);
    },

    /** Moves aliases onto a version: Vertex takes them off whichever version held them, in one call. */
    async promoteVersion(req: { region: string; model: string; versionId: string; aliases: string[] }): Promise<void> {
      await clients(req.region)
        .mergeVersionAliases({ name: `${req.model}@${req.versionId}`, versionAliases: req.aliases })
        .catch((err: unknown) => {
          throw vertexFailure(err, `moving ${req.aliases.join(', ')} to version ${req.versionId}`);
        });
    },
  };
}

type ModelClient = ReturnType<VertexClientFactory>['models'];

/** The version holding the `champion` alias and the metrics it was registered with, if any. */
async function championOf(models: ModelClient, r: ModelRef): Promise<Champion | null> {
  try {
    const [m] = await models.getModel({ name: `${modelName(r)}@champion` });
    let described: { metrics?: Record<string, number>; partition?: string } = {};
    try {
      described = JSON.parse(m.versionDescription ?? '{}') as typeof described;
    } catch {
      // a version registered by hand, without our description: no numbers to compare with
    }
    return {
      model: m.name!,
      version: m.versionId!,
      metrics: described.metrics ?? {},
      partition: described.partition,
      trainedAt: isoTime(m.versionCreateTime),
      aliases: [...(m.versionAliases ?? [])],
    };
  } catch (err) {
    if (grpcCode(err) === 5) return null; // no model yet, or no champion yet
    throw vertexFailure(err, `reading the champion of ${r.modelId}`);
  }
}
