// Which cloud registry a registry name is, by host pattern (the port, if any, is not part of the pattern): the
// patterns of the credential helpers Chains links in (amazon-ecr-credential-helper, go-containerregistry's google
// keychain, the ACR helper).

/** The host part of `host[:port]`. */
export function hostOf(registry: string): string {
  if (registry.startsWith('[')) return registry.slice(1, registry.indexOf(']')).toLowerCase();
  const colon = registry.lastIndexOf(':');
  return (colon >= 0 ? registry.slice(0, colon) : registry).toLowerCase();
}

// amazon-ecr-credential-helper's ecrPattern: account, optional FIPS, region, and the partitions' DNS suffixes
const ECR_SUFFIX = String.raw`(amazonaws\.com(\.cn)?|sc2s\.sgov\.gov|c2s\.ic\.gov|cloud\.adc-e\.uk|csp\.hci\.ic\.gov)`;
const ECR_HOST = new RegExp(String.raw`^(\d{12})\.dkr[.-]ecr(-fips)?\.([a-z0-9][a-z0-9-_]*)\.` + ECR_SUFFIX + '$');

/** The AWS region of an ECR registry host (`<account>.dkr.ecr.<region>.amazonaws.com`), else undefined. */
export function ecrRegion(registry: string): string | undefined {
  return ECR_HOST.exec(hostOf(registry))?.[3];
}

/** Google Container Registry and Artifact Registry hosts: `gcr.io`, `*.gcr.io`, `*.pkg.dev` (`<loc>-docker.pkg.dev`) */
export function isGoogleRegistry(registry: string): boolean {
  const host = hostOf(registry);
  return host === 'gcr.io' || host.endsWith('.gcr.io') || host.endsWith('.pkg.dev');
}

/** Azure Container Registry login servers: `<name>.azurecr.io` and the sovereign clouds' suffixes. */
export function isAzureRegistry(registry: string): boolean {
  return /^[a-z0-9-]+\.azurecr\.(io|cn|de|us)$/.test(hostOf(registry));
}
