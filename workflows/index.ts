// Every workflow the worker registers. Workflow code runs in Temporal's deterministic sandbox and
// is replayed from history: no Node built-ins, no I/O, activities imported for their types only.
import { setWorkflowOptions } from '@temporalio/workflow';
import { stackCheck } from './stack-check';
import { trainingRun } from './training-run';
import { routeDataReady } from './route-data-ready';
import { waitForModel } from './wait-for-model';
import { predictionRun } from './prediction-run';
import { predictionSegment } from './prediction-segment';
import { trainingFanout } from './training-fanout';
import { scheduledRun } from './scheduled-run';

export {
  stackCheck,
  trainingRun,
  routeDataReady,
  waitForModel,
  predictionRun,
  predictionSegment,
  trainingFanout,
  scheduledRun,
};

// Which build a run's workflow tasks go to under Worker Deployment Versioning (workers/versioning.ts).
// PINNED: the run finishes on the build that started it, so a deploy needs no patched() for it; the
//   old build's workers stay until it ends. For runs that end within minutes to hours.
// AUTO_UPGRADE: the run moves to the current build at its next task, so old workers can go soon;
//   a change to such a workflow must replay its runs in flight (patched(); `ct deploy check` and
//   test/histories check it before a deploy). For runs that wait days (an approval, a model, the
//   runs they follow) or continue as new, which pinning would keep on an old build for as long.
setWorkflowOptions({ versioningBehavior: 'AUTO_UPGRADE' }, trainingRun);
setWorkflowOptions({ versioningBehavior: 'AUTO_UPGRADE' }, trainingFanout);
setWorkflowOptions({ versioningBehavior: 'AUTO_UPGRADE' }, waitForModel);
setWorkflowOptions({ versioningBehavior: 'AUTO_UPGRADE' }, predictionRun);
setWorkflowOptions({ versioningBehavior: 'AUTO_UPGRADE' }, scheduledRun);
setWorkflowOptions({ versioningBehavior: 'PINNED' }, predictionSegment);
setWorkflowOptions({ versioningBehavior: 'PINNED' }, routeDataReady);
setWorkflowOptions({ versioningBehavior: 'PINNED' }, stackCheck);
