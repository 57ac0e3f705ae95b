// Which host and scheme serve a registry's API: loopback registries are spoken to over plain http, and Docker
// Hub's API is not on the host its images are named by.
import { DEFAULT_REGISTRY, normaliseRegistry } from '../reference/reference.js';

/** True for registries on the loopback interface, which are spoken to over plain http. */
export function isLoopbackRegistry(registry: string): boolean {
  let host = registry;
  if (host.startsWith('[')) host = host.slice(1, host.indexOf(']'));
  else if (host.includes(':')) host = host.slice(0, host.lastIndexOf(':'));
  host = host.toLowerCase();
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** The host that serves the registry API (Docker Hub's API is not on `index.docker.io`). */
export function apiHost(registry: string): string {
  const r = normaliseRegistry(registry);
  return r === DEFAULT_REGISTRY ? 'registry-1.docker.io' : r;
}
