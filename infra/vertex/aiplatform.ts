// The Vertex AI v1 clients and the Value converter, imported from their own modules: the
// package's index also loads its 16 MB generated `protos.js` and every v1beta1 client, which a
// worker never calls (≈ 55 MB of heap, and more under a TypeScript loader). The clients are the
// same classes the index exports; the path is pinned with the package version in the lockfile.
export { EndpointServiceClient } from '@google-cloud/aiplatform/build/src/v1/endpoint_service_client';
export { JobServiceClient } from '@google-cloud/aiplatform/build/src/v1/job_service_client';
export { ModelServiceClient } from '@google-cloud/aiplatform/build/src/v1/model_service_client';
export { PipelineServiceClient } from '@google-cloud/aiplatform/build/src/v1/pipeline_service_client';
export { PredictionServiceClient } from '@google-cloud/aiplatform/build/src/v1/prediction_service_client';
export { toValue } from '@google-cloud/aiplatform/build/src/helpers';
