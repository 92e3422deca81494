// Every workflow the worker registers, one per file beside this one; support/ holds their parts
// (run state, steps, activity options) and interceptors/ what runs around every workflow (its
// metrics, log context and cost). Workflow code runs in Temporal's deterministic sandbox and is
// replayed from history: no Node built-ins, no I/O, activities imported for their types only.
import { setWorkflowOptions, workflowInfo } from '@temporalio/workflow';
import type { VersioningBehavior } from '@temporalio/common';
import { stackCheck } from './stack-check';
import { trainingRun } from './training-run';
import { routeDataReady } from './route-data-ready';
import { waitForModel } from './wait-for-model';
import { predictionRun } from './prediction-run';
import { predictionSegment } from './prediction-segment';
import { trainingFanout } from './training-fanout';
import { scheduledRun } from './scheduled-run';
import { modelRollout } from './model-rollout';
import { flagWatch } from './flag-watch';

export {
  stackCheck,
  trainingRun,
  routeDataReady,
  waitForModel,
  predictionRun,
  predictionSegment,
  trainingFanout,
  scheduledRun,
  modelRollout,
  flagWatch,
};

// Which build a run's workflow tasks go to under Worker Deployment Versioning (workers/versioning.ts).
// PINNED: the run finishes on the build that started it, so a deploy needs no patched() for it; the
//   old build's workers stay until it ends. For runs that end within minutes to hours.
// AUTO_UPGRADE: the run moves to the current build at its next task, so old workers can go soon;
//   a change to such a workflow must replay its runs in flight (patched(); `ct deploy check` and
//   test/histories check it before a deploy). For runs that wait days (an approval, a model, the
//   runs they follow) or continue as new, which pinning would keep on an old build for as long.
// A worker without a deployment (npm run dev, most tests) must not name a behaviour: the server
// refuses the task ("versioning behavior cannot be specified without deployment options"). Every
// worker reports a version (the SDK makes up a build id); only a versioned one has a deployment name.
const versioned = (versioningBehavior: VersioningBehavior, fn: (...args: never[]) => Promise<unknown>) =>
  setWorkflowOptions(() => (workflowInfo().currentDeploymentVersion?.deploymentName ? { versioningBehavior } : {}), fn);
versioned('AUTO_UPGRADE', trainingRun);
versioned('AUTO_UPGRADE', trainingFanout);
versioned('AUTO_UPGRADE', waitForModel);
versioned('AUTO_UPGRADE', predictionRun);
versioned('AUTO_UPGRADE', scheduledRun);
versioned('AUTO_UPGRADE', modelRollout);
versioned('AUTO_UPGRADE', flagWatch);
versioned('PINNED', predictionSegment);
versioned('PINNED', routeDataReady);
versioned('PINNED', stackCheck);
