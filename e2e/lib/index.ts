// The e2e helper library: the stack's coordinates, namespaces, simulated Tekton runs,
// random images in the registry, and the controller as a child process.
export { stackEnv, parseEnvFile, REPO_ROOT, type StackEnv } from './env.js';
export {
  kube,
  adminClient,
  createNamespace,
  ensureNamespace,
  eventsOf,
  retryTransient,
  watchObjects,
  randomSuffix,
  NAMESPACES,
  CORE_EVENTS,
  type CoreEvent,
  type ObjectWatch,
} from './kube.js';
export {
  createTaskRun,
  completeTaskRun,
  createPipelineRun,
  completePipelineRun,
  createChildTaskRun,
  childReference,
  childTaskRunMetadata,
  taskRunBody,
  pipelineRunBody,
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
  pushImage,
  uploadLayer,
  uploadBlob,
  putManifest,
  fetchManifest,
  fetchBlob,
  deleteManifest,
  layersOf,
  sha256Digest,
  closeRegistryConnections,
  MEDIA,
  type Descriptor,
  type Layer,
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
  controllerArgs,
  completeImageTaskRun,
  runCommand,
  kubectl,
  chainsmithCli,
  type SigningControllerOptions,
  type CommandResult,
} from './scenario.js';
export { cosign, closedPort, runTool, type ToolOutcome } from './cosign.js';
export { basicAuthFront, dockerConfigJson, type BasicAuthFront } from './basic-auth-front.js';
