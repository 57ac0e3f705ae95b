// The registry client's public surface, for the controller and the CLI.
export { RegistryClient, type RegistryClientOptions, type FetchedManifest } from './client.js';
export { KubernetesCredentialSource, StaticCredentialSource, serviceAccountOf, readDockerConfigDir, type RegistryCredentialSource, type DockerConfigJson } from './credentials.js';
export { platformManifests } from './platforms.js';
export { KeyedMutex } from './keyed-mutex.js';
export { TokenCache } from './auth.js';
export { parseReference, parseRepository, repositoryName, attachmentTag, type OciReference } from './reference.js';
export { DEFAULT_RETRY, type RetryPolicy } from './retry.js';
export { parseReferenceParts, NAME_TOTAL_LENGTH_MAX, REFERENCE_LENGTH_MAX } from './grammar.js';
export * from './limits.js';
