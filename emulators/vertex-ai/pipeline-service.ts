import { status } from '@grpc/grpc-js';
import { readMaskOf, type ListRequest } from './read-mask';
import { RpcError, Violations } from './errors';
import { type CallContext, type JobRepository, renderJob } from './job-repository';
import { numericId, parseParent } from './names';
import type { ProtoStruct, ProtoValue } from './protos';
import type { Store } from './store';
import { checkDisplayName, checkLabels, checkPipelineSpec, PIPELINE_JOB_ID } from './validation';

interface PipelineJobIn {
  displayName?: string;
  pipelineSpec?: ProtoStruct;
  templateUri?: string;
  labels?: Record<string, string>;
  runtimeConfig?: { gcsOutputDirectory?: string; parameterValues?: Record<string, ProtoValue> };
  serviceAccount?: string;
}

const LIST_FIELDS = ['state', 'display_name', 'pipeline_name', 'create_time', 'update_time', 'end_time'] as const;

export function pipelineService(store: Store, jobs: JobRepository) {
  const projectNumbers = () => store.state.settings.projectNumbers;
  return {
    CreatePipelineJob(req: { parent?: string; pipelineJob?: PipelineJobIn; pipelineJobId?: string }) {
      parseParent(req.parent);
      const v = new Violations();
      const job = req.pipelineJob;
      v.required('pipeline_job', job);
      if (req.pipelineJobId && !PIPELINE_JOB_ID.test(req.pipelineJobId)) {
        v.add(
          'pipeline_job_id',
          `"${req.pipelineJobId}" is invalid: use at most 128 characters of [a-z0-9-], starting with a letter.`,
        );
      }
      if (job) {
        checkDisplayName(v, 'pipeline_job.display_name', job.displayName, false);
        checkLabels(v, 'pipeline_job.labels', job.labels);
        if (job.templateUri && !job.pipelineSpec) {
          if (!/^https:\/\/[a-z0-9-]+-kfp\.pkg\.dev\//.test(job.templateUri)) {
            v.add(
              'pipeline_job.template_uri',
              'Only Artifact Registry template URIs (https://REGION-kfp.pkg.dev/…) are accepted; send a compiled spec as pipeline_spec.',
            );
          } else {
            throw new RpcError(
              status.UNIMPLEMENTED,
              'The emulator has no Template Registry: send the compiled spec as pipeline_spec.',
            );
          }
        } else if (!job.pipelineSpec?.fields) {
          v.add('pipeline_job.pipeline_spec', 'Required field is not set.');
        }
        const out = job.runtimeConfig?.gcsOutputDirectory;
        if (!out) v.add('pipeline_job.runtime_config.gcs_output_directory', 'Required field is not set.');
        else if (!/^gs:\/\/[a-z0-9][a-z0-9._-]{1,221}[a-z0-9](\/.*)?$/.test(out))
          v.add('pipeline_job.runtime_config.gcs_output_directory', `"${out}" is not a gs:// URI.`);
        checkPipelineSpec(v, job.pipelineSpec, job.runtimeConfig?.parameterValues);
      }
      v.throwIfAny();
      const record = jobs.create(
        'pipelineJob',
        req.parent!,
        req.pipelineJobId || numericId(),
        job as Record<string, unknown>,
      );
      return renderJob(record, projectNumbers());
    },
    GetPipelineJob(req: { name?: string }) {
      return renderJob(jobs.get('pipelineJob', req.name), projectNumbers());
    },
    ListPipelineJobs(req: ListRequest, ctx: CallContext = {}) {
      const mask = readMaskOf(req.readMask, 'PipelineJob');
      const page = jobs.list('pipelineJob', req, LIST_FIELDS, ctx);
      return {
        pipelineJobs: page.items.map((j) => mask(renderJob(j, projectNumbers(), true))),
        nextPageToken: page.nextPageToken,
      };
    },
    CancelPipelineJob(req: { name?: string }) {
      jobs.cancel('pipelineJob', req.name);
      return {};
    },
  };
}
