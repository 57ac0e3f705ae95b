// A loopback stand-in for the GCE/GKE metadata server, because no Google Cloud metadata server exists off Google Cloud.
// It answers what google-auth-library's application default credentials ask when GCE_METADATA_HOST points at it
// (gcp-metadata): the `/computeMetadata/v1/instance` ping, the default service account's OAuth2 access token,
// project id, e-mail and universe domain — refusing requests without `Metadata-Flavor: Google` and sending that
// header back, as the real server does (gcp-metadata checks it). The token is the password of user
// `oauth2accesstoken` in a test registry's htpasswd (e2e/lib/cloud-registries.ts).
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLoopbackServer, type RecordedRequest, type Reply } from '../../signing/kms/loopback-server.js';

export interface GceMetadataStandInOptions {
  /** the access token handed out (default `ya29.` + 60 random characters; keep it ≤ 72 bytes, bcrypt's limit) */
  token?: string;
  /** `expires_in` of the token, seconds (default 3599, like the metadata server) */
  expiresInSeconds?: number;
  projectId?: string;
  email?: string;
}

export interface GceMetadataStandIn {
  /** `127.0.0.1:<port>`, for GCE_METADATA_HOST */
  host: string;
  /**
   * What a process needs so ADC ends at this server: GCE_METADATA_HOST, and CLOUDSDK_CONFIG set to an empty dir (no
   * gcloud config or project). DETECT_GCP_RETRIES=3: off Google Cloud, gcp-metadata gives its detection ping 3 s and,
   * by default, no retry, which a loaded 2-core machine can miss; the ping itself still happens. GOOGLE_APPLICATION_CREDENTIALS must be unset as well (`unsetEnv`); ADC also reads
   * $HOME/.config/gcloud/application_default_credentials.json, which must not exist.
   */
  env: Record<'GCE_METADATA_HOST' | 'CLOUDSDK_CONFIG' | 'DETECT_GCP_RETRIES', string>;
  /** the variables that would make ADC use another credential first */
  unsetEnv: readonly string[];
  readonly token: string;
  setToken(token: string): void;
  setExpiresIn(seconds: number): void;
  /** answer the token request with this HTTP status (e.g. 500, 404) until called with undefined */
  setTokenFailure(status: number | undefined): void;
  /** token requests answered with a token */
  tokenCalls(): number;
  /** `/computeMetadata/v1/instance` pings */
  pings(): number;
  /** requests refused for lacking `Metadata-Flavor: Google` */
  refused(): number;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

export const GOOGLE_ADC_UNSET_ENV = [
  'GOOGLE_APPLICATION_CREDENTIALS',
  'google_application_credentials',
  'GCE_METADATA_IP',
  'METADATA_SERVER_DETECTION',
  'GOOGLE_CLOUD_PROJECT',
  'GCLOUD_PROJECT',
  'GOOGLE_CLOUD_QUOTA_PROJECT',
  'CLOUDSDK_CORE_PROJECT',
] as const;

const FLAVOR = { 'metadata-flavor': 'Google' };

/** Starts the metadata stand-in on a free loopback port (and an empty CLOUDSDK_CONFIG dir, removed by close). */
export async function startGceMetadataStandIn(opts: GceMetadataStandInOptions = {}): Promise<GceMetadataStandIn> {
  let token = opts.token ?? `ya29.${randomBytes(45).toString('base64url')}`;
  let expiresIn = opts.expiresInSeconds ?? 3599;
  let failure: number | undefined;
  let calls = 0;
  let pings = 0;
  let refused = 0;
  const projectId = opts.projectId ?? 'chainsmith-test';
  const email = opts.email ?? `chainsmith@${projectId}.iam.gserviceaccount.com`;
  const gcloudDir = await mkdtemp(join(tmpdir(), 'chainsmith-gcloud-'));

  const text = (body: string): Reply => ({
    status: 200,
    body,
    headers: { ...FLAVOR, 'content-type': 'application/text' },
  });
  const handle = (req: RecordedRequest): Reply => {
    if (req.headers['metadata-flavor'] !== 'Google') {
      refused++;
      return {
        status: 403,
        body: 'Missing required header: Metadata-Flavor',
        headers: { 'content-type': 'text/plain' },
      };
    }
    const path = new URL(req.url, 'http://metadata').pathname.replace(/\/+$/, '');
    if (req.method !== 'GET') return { status: 405, body: '', headers: FLAVOR };
    switch (path) {
      case '/computeMetadata/v1/instance':
      case '/computeMetadata/v1':
        pings++;
        return text('attributes/\nhostname\nid\nservice-accounts/\nzone\n');
      case '/computeMetadata/v1/instance/service-accounts/default/token':
        if (failure !== undefined) return { status: failure, body: 'stand-in failure', headers: FLAVOR };
        calls++;
        return {
          status: 200,
          headers: { ...FLAVOR, 'content-type': 'application/json' },
          body: { access_token: token, expires_in: expiresIn, token_type: 'Bearer' },
        };
      case '/computeMetadata/v1/instance/service-accounts/default/email':
        return text(email);
      case '/computeMetadata/v1/project/project-id':
        return text(projectId);
      case '/computeMetadata/v1/universe/universe-domain':
        return text('googleapis.com');
      default:
        return { status: 404, body: 'Not Found', headers: { ...FLAVOR, 'content-type': 'text/plain' } };
    }
  };

  const server = await startLoopbackServer(handle);
  return {
    host: `127.0.0.1:${server.port}`,
    env: { GCE_METADATA_HOST: `127.0.0.1:${server.port}`, CLOUDSDK_CONFIG: gcloudDir, DETECT_GCP_RETRIES: '3' },
    unsetEnv: GOOGLE_ADC_UNSET_ENV,
    get token() {
      return token;
    },
    setToken: (t) => {
      token = t;
    },
    setExpiresIn: (s) => {
      expiresIn = s;
    },
    setTokenFailure: (s) => {
      failure = s;
    },
    tokenCalls: () => calls,
    pings: () => pings,
    refused: () => refused,
    requests: server.requests,
    close: async () => {
      await server.close();
      await rm(gcloudDir, { recursive: true, force: true });
    },
  };
}
