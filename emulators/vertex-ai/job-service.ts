import { Violations } from './errors';
import { readMaskOf, type ListRequest } from './read-mask';
import { type CallContext, type JobRepository, renderJob } from './job-repository';
import type { ModelRegistry } from './model-registry';
import { numericId, parseParent } from './names';
import type { Store } from './store';
import { checkDisplayName, checkLabels } from './validation';

interface WorkerPoolSpec {
  containerSpec?: { imageUri?: string };
  pythonPackageSpec?: { executorImageUri?: string; packageUris?: string[]; pythonModule?: string };
  machineSpec?: { machineType?: string };
  replicaCount?: string | number;
}

// What job_service.proto documents for ListCustomJobs and ListBatchPredictionJobs: unlike
// ListPipelineJobs, no update_time or end_time, so a filter on them is refused as Vertex would.
const CUSTOM_FIELDS = ['state', 'display_name', 'create_time'] as const;
const BATCH_FIELDS = [...CUSTOM_FIELDS, 'model_display_name'] as const;
const INSTANCE_FORMATS = ['jsonl', 'csv', 'tf-record', 'tf-record-gzip', 'bigquery', 'file-list'];
const PREDICTION_FORMATS = ['jsonl', 'csv', 'bigquery'];

function checkCustomJob(job: Record<string, unknown> | undefined): void {
  const v = new Violations();
  v.required('custom_job', job);
  if (job) {
    checkDisplayName(v, 'custom_job.display_name', job.displayName);
    checkLabels(v, 'custom_job.labels', job.labels);
    const pools = (job.jobSpec as { workerPoolSpecs?: WorkerPoolSpec[] } | undefined)?.workerPoolSpecs ?? [];
    if (!pools.length) v.add('custom_job.job_spec.worker_pool_specs', 'Required field is not set.');
    pools.forEach((pool, i) => {
      const f = `custom_job.job_spec.worker_pool_specs[${i}]`;
      const empty = !pool.containerSpec && !pool.pythonPackageSpec && !pool.machineSpec;
      if (i > 0 && empty) return; // pools after the first may be empty
      if (!pool.containerSpec?.imageUri && !pool.pythonPackageSpec?.executorImageUri)
        v.add(`${f}.container_spec.image_uri`, 'Required field is not set.');
      if (!pool.machineSpec?.machineType)
        v.add(`${f}.machine_spec`, 'machine_spec and replica_count must be set together.');
      if (i === 0 && Number(pool.replicaCount ?? 0) !== 1)
        v.add(`${f}.replica_count`, 'The first worker pool must have replica_count 1.');
    });
    const base = (job.jobSpec as { baseOutputDirectory?: { outputUriPrefix?: string } } | undefined)
      ?.baseOutputDirectory?.outputUriPrefix;
    if (base !== undefined && !base.startsWith('gs://'))
      v.add('custom_job.job_spec.base_output_directory.output_uri_prefix', `"${base}" is not a gs:// URI.`);
  }
  v.throwIfAny();
}

interface BatchIn {
  displayName?: string;
  model?: string;
  unmanagedContainerModel?: unknown;
  labels?: Record<string, string>;
  inputConfig?: { instancesFormat?: string; gcsSource?: { uris?: string[] }; bigquerySource?: { inputUri?: string } };
  outputConfig?: {
    predictionsFormat?: string;
    gcsDestination?: { outputUriPrefix?: string };
    bigqueryDestination?: { outputUri?: string };
  };
}

function checkBatchJob(job: BatchIn | undefined): void {
  const v = new Violations();
  v.required('batch_prediction_job', job);
  if (job) {
    checkDisplayName(v, 'batch_prediction_job.display_name', job.displayName);
    checkLabels(v, 'batch_prediction_job.labels', job.labels);
    if (!!job.model === !!job.unmanagedContainerModel)
      v.add('batch_prediction_job.model', 'Exactly one of model and unmanaged_container_model must be set.');
    const inp = job.inputConfig;
    if (!inp) v.add('batch_prediction_job.input_config', 'Required field is not set.');
    else {
      if (!inp.instancesFormat)
        v.add('batch_prediction_job.input_config.instances_format', 'Required field is not set.');
      else if (!INSTANCE_FORMATS.includes(inp.instancesFormat))
        v.add(
          'batch_prediction_job.input_config.instances_format',
          `"${inp.instancesFormat}" is not one of ${INSTANCE_FORMATS.join(', ')}.`,
        );
      if (!!inp.gcsSource === !!inp.bigquerySource)
        v.add('batch_prediction_job.input_config.source', 'Exactly one of gcs_source and bigquery_source must be set.');
      for (const uri of inp.gcsSource?.uris ?? [])
        if (!uri.startsWith('gs://'))
          v.add('batch_prediction_job.input_config.gcs_source.uris', `"${uri}" is not a gs:// URI.`);
      if (inp.gcsSource && !inp.gcsSource.uris?.length)
        v.add('batch_prediction_job.input_config.gcs_source.uris', 'Required field is not set.');
    }
    const out = job.outputConfig;
    if (!out) v.add('batch_prediction_job.output_config', 'Required field is not set.');
    else {
      if (!out.predictionsFormat)
        v.add('batch_prediction_job.output_config.predictions_format', 'Required field is not set.');
      else if (!PREDICTION_FORMATS.includes(out.predictionsFormat))
        v.add(
          'batch_prediction_job.output_config.predictions_format',
          `"${out.predictionsFormat}" is not one of ${PREDICTION_FORMATS.join(', ')}.`,
        );
      if (!!out.gcsDestination === !!out.bigqueryDestination)
        v.add(
          'batch_prediction_job.output_config.destination',
          'Exactly one of gcs_destination and bigquery_destination must be set.',
        );
      const prefix = out.gcsDestination?.outputUriPrefix;
      if (out.gcsDestination && !prefix?.startsWith('gs://'))
        v.add(
          'batch_prediction_job.output_config.gcs_destination.output_uri_prefix',
          `"${prefix ?? ''}" is not a gs:// URI.`,
        );
    }
  }
  v.throwIfAny();
}

export function jobService(store: Store, jobs: JobRepository, models: ModelRegistry) {
  const projectNumbers = () => store.state.settings.projectNumbers;
  return {
    CreateCustomJob(req: { parent?: string; customJob?: Record<string, unknown> }) {
      parseParent(req.parent);
      checkCustomJob(req.customJob);
      return renderJob(jobs.create('customJob', req.parent!, numericId(), req.customJob!), projectNumbers());
    },
    GetCustomJob: (req: { name?: string }) => renderJob(jobs.get('customJob', req.name), projectNumbers()),
    ListCustomJobs(req: ListRequest, ctx: CallContext = {}) {
      const mask = readMaskOf(req.readMask, 'CustomJob');
      const page = jobs.list('customJob', req, CUSTOM_FIELDS, ctx);
      return {
        customJobs: page.items.map((j) => mask(renderJob(j, projectNumbers(), true))),
        nextPageToken: page.nextPageToken,
      };
    },
    CancelCustomJob(req: { name?: string }) {
      jobs.cancel('customJob', req.name);
      return {};
    },

    CreateBatchPredictionJob(req: { parent?: string; batchPredictionJob?: BatchIn }) {
      parseParent(req.parent);
      checkBatchJob(req.batchPredictionJob);
      const job = req.batchPredictionJob!;
      // A registry model must exist; @version / @alias pick the version, none means the default.
      const resolved =
        job.model && !job.model.startsWith('publishers/')
          ? models.resolve(job.model, 'batch_prediction_job.model')
          : undefined;
      const record = jobs.create('batchPredictionJob', req.parent!, numericId(), job as Record<string, unknown>, {
        modelVersionId: resolved?.version.versionId,
        outputs: { modelDisplayName: resolved?.version.resource.displayName ?? 'model' },
      });
      return renderJob(record, projectNumbers());
    },
    GetBatchPredictionJob: (req: { name?: string }) =>
      renderJob(jobs.get('batchPredictionJob', req.name), projectNumbers()),
    ListBatchPredictionJobs(req: ListRequest, ctx: CallContext = {}) {
      const mask = readMaskOf(req.readMask, 'BatchPredictionJob');
      const page = jobs.list('batchPredictionJob', req, BATCH_FIELDS, ctx);
      return {
        batchPredictionJobs: page.items.map((j) => mask(renderJob(j, projectNumbers(), true))),
        nextPageToken: page.nextPageToken,
      };
    },
    CancelBatchPredictionJob(req: { name?: string }) {
      jobs.cancel('batchPredictionJob', req.name);
      return {};
    },
  };
}
