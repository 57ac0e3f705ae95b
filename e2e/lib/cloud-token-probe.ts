// A child process for e2e/cloud-registries.e2e.ts, run with `node --import tsx` and CloudRegistries.childEnv(): gets a
// registry credential through the real cloud SDK (ECR: @aws-sdk/client-ecr GetAuthorizationToken; Google:
// google-auth-library ADC; ACR: @azure/identity DefaultAzureCredential, then the registry's /oauth2/exchange and
// its token realm), then uses it on the registry by its cloud name: GET /v2/, and with `push`, a blob and a manifest.
// Prints one JSON line of HTTP statuses and lengths, never a token or password.
//   node --import tsx e2e/lib/cloud-token-probe.ts <ecr|google|acr|acr-get> <registry host:port> <repository> [push]
import { createHash, randomBytes } from 'node:crypto';

type Cloud = 'ecr' | 'google' | 'acr' | 'acr-get';

interface ProbeResult {
  cloud: Cloud;
  /** the SDK's failure (name: first line), when it gave no credential */
  error?: string;
  username?: string;
  secretLength?: number;
  expiresAt?: number;
  /** ACR: status of /oauth2/exchange and of the token grant */
  exchange?: number;
  grant?: number;
  /** GET /v2/ with the credential */
  ping?: number;
  /** pushes (with `push`): blob upload start, blob PUT, manifest PUT, manifest GET */
  push?: { start: number; blob?: number; config?: number; manifest?: number; get?: number; digest?: string };
}

const [cloud, registry, repository, mode] = process.argv.slice(2) as [Cloud, string, string, string | undefined];
const ACR_USER = '00000000-0000-0000-0000-000000000000';

const firstLine = (err: unknown): string => {
  const e = err as { name?: string; message?: string };
  return `${e?.name ?? 'Error'}: ${(e?.message ?? String(err)).split('\n')[0]}`.slice(0, 300);
};

async function basicCredential(): Promise<{ username: string; password: string; expiresAt?: number }> {
  if (cloud === 'ecr') {
    const { ECRClient, GetAuthorizationTokenCommand } = await import('@aws-sdk/client-ecr');
    const region = /\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com/.exec(registry)?.[1];
    const client = new ECRClient({ region });
    const out = await client.send(new GetAuthorizationTokenCommand({}));
    client.destroy();
    const data = out.authorizationData?.[0];
    const decoded = Buffer.from(data?.authorizationToken ?? '', 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return {
      username: decoded.slice(0, colon),
      password: decoded.slice(colon + 1),
      expiresAt: data?.expiresAt?.getTime(),
    };
  }
  const { GoogleAuth } = await import('google-auth-library');
  const client = await new GoogleAuth({ scopes: ['https://www.googleapis.com/auth/cloud-platform'] }).getClient();
  const { token } = await client.getAccessToken();
  return {
    username: 'oauth2accesstoken',
    password: token ?? '',
    expiresAt: client.credentials.expiry_date ?? undefined,
  };
}

async function registryFetch(path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(new URL(path, `https://${registry}`), { ...init, signal: AbortSignal.timeout(30_000) });
}

async function main(): Promise<ProbeResult> {
  const result: ProbeResult = { cloud };
  let authorization: string;
  try {
    if (cloud === 'ecr' || cloud === 'google') {
      const c = await basicCredential();
      result.username = c.username;
      result.secretLength = c.password.length;
      if (c.expiresAt !== undefined) result.expiresAt = c.expiresAt;
      authorization = `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
    } else {
      const { DefaultAzureCredential } = await import('@azure/identity');
      const entra = await new DefaultAzureCredential().getToken('https://containerregistry.azure.net/.default');
      result.secretLength = entra.token.length;
      result.expiresAt = entra.expiresOnTimestamp;
      result.username = ACR_USER;
      const form = new URLSearchParams({
        grant_type: 'access_token',
        service: registry.split(':')[0]!,
        tenant: process.env.AZURE_TENANT_ID ?? '',
        access_token: entra.token,
      });
      const ex = await registryFetch('/oauth2/exchange', { method: 'POST', body: form });
      result.exchange = ex.status;
      const refresh = ex.ok ? (((await ex.json()) as { refresh_token?: string }).refresh_token ?? '') : 'none';
      // the challenge names the realm and the service
      const challenge = (await registryFetch('/v2/')).headers.get('www-authenticate') ?? '';
      const realm = /realm="([^"]+)"/.exec(challenge)?.[1] ?? `https://${registry}/oauth2/token`;
      const service = /service="([^"]+)"/.exec(challenge)?.[1] ?? registry;
      const scope = `repository:${repository}:pull,push`;
      let grant: Response;
      if (cloud === 'acr-get') {
        const q = new URLSearchParams({ service, scope });
        grant = await fetch(`${realm}?${q}`, {
          headers: { authorization: `Basic ${Buffer.from(`${ACR_USER}:${refresh}`).toString('base64')}` },
        });
      } else {
        const body = new URLSearchParams({ grant_type: 'refresh_token', service, scope, refresh_token: refresh });
        grant = await fetch(realm, { method: 'POST', body });
      }
      result.grant = grant.status;
      const access = grant.ok ? (((await grant.json()) as { access_token?: string }).access_token ?? '') : 'none';
      authorization = `Bearer ${access}`;
    }
  } catch (err) {
    result.error = firstLine(err);
    return result;
  }

  const auth = { authorization };
  result.ping = (await registryFetch('/v2/', { headers: auth })).status;
  if (mode !== 'push') return result;

  const upload = async (blob: Buffer): Promise<number> => {
    const digest = `sha256:${createHash('sha256').update(blob).digest('hex')}`;
    const start = await registryFetch(`/v2/${repository}/blobs/uploads/`, { method: 'POST', headers: auth });
    await start.arrayBuffer();
    result.push ??= { start: start.status };
    const location = start.headers.get('location');
    if (start.status !== 202 || !location) return start.status;
    const url = new URL(location, `https://${registry}`);
    url.searchParams.set('digest', digest);
    const put = await registryFetch(url.toString(), {
      method: 'PUT',
      headers: { ...auth, 'content-type': 'application/octet-stream' },
      body: blob,
    });
    await put.arrayBuffer();
    return put.status;
  };
  const layer = randomBytes(512);
  const config = Buffer.from(
    JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }),
  );
  const digestOf = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
  const blobStatus = await upload(layer);
  result.push!.blob = blobStatus;
  if (blobStatus !== 201) return result;
  result.push!.config = await upload(config);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: digestOf(config), size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: digestOf(layer), size: layer.length }],
    }),
  );
  const put = await registryFetch(`/v2/${repository}/manifests/probe`, {
    method: 'PUT',
    headers: { ...auth, 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
    body: manifest,
  });
  await put.arrayBuffer();
  result.push!.manifest = put.status;
  // the pushed image's digest (not a secret), for tests that sign it
  result.push!.digest = digestOf(manifest);
  const get = await registryFetch(`/v2/${repository}/manifests/${digestOf(manifest)}`, {
    headers: { ...auth, accept: 'application/vnd.oci.image.manifest.v1+json' },
  });
  await get.arrayBuffer();
  result.push!.get = get.status;
  return result;
}

main().then(
  (r) => process.stdout.write(`${JSON.stringify(r)}\n`),
  (err: unknown) => {
    process.stdout.write(`${JSON.stringify({ cloud, error: firstLine(err) })}\n`);
    process.exitCode = 1;
  },
);
