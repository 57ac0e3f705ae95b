// The e2e helper library: the stack's coordinates, namespaces, simulated Tekton runs,
// random images in the registry, and the controller as a child process.
export { stackEnv, parseEnvFile, REPO_ROOT, type StackEnv } from './env.js';
export { kube, createNamespace, randomSuffix, type Kube } from './kube.js';
export {
  createTaskRun,
  completeTaskRun,
  createPipelineRun,
  completePipelineRun,
  createChildTaskRun,
  childReference,
  getTaskRun,
  getPipelineRun,
  patchRunStatus,
  succeededTaskRunStatus,
  succeededPipelineRunStatus,
  KANIKO_IMAGE_ID,
  type RunInput,
} from './tekton.js';
export {
  pushRandomImage,
  fetchManifest,
  sha256Digest,
  MEDIA,
  type PushedImage,
  type PushOptions,
  type FetchedManifest,
} from './registry.js';
export { startController, type ControllerProcess } from './controller.js';
export { isAlive, waitFor, type WaitOptions } from './wait.js';
export {
  x509SecretsDir,
  writeChainsConfig,
  startSigningController,
  completeImageTaskRun,
  runCommand,
  chainsmithCli,
  type SigningControllerOptions,
  type CommandResult,
} from './scenario.js';
export { cosign, closedPort } from './cosign.js';
export { referrersFront, type ReferrerFront } from './referrers.js';
export { basicAuthFront, dockerConfigJson, type BasicAuthFront } from './basic-auth-front.js';
