// A loopback stand-in for the Amazon ECR API, because no ECR (nor any AWS endpoint) can be reached or run here.
// It speaks what @aws-sdk/client-ecr sends for GetAuthorizationToken — JSON 1.1, `POST /`,
// `X-Amz-Target: AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken`, a SigV4 `Authorization` header — and
// answers like ECR: `authorizationData: [{ authorizationToken: base64("AWS:<password>"), expiresAt, proxyEndpoint }]`.
// The SDK reaches it through its own endpoint setting: AWS_ENDPOINT_URL_ECR (see `env`), with static keys.
// The password is what a test registry's htpasswd holds for user AWS (e2e/lib/cloud-registries.ts); `setPassword`
// makes it hand out one that registry refuses. The SigV4 signature is recomputed with the secret key of `env`, so a
// request signed with other keys, for another region or service, is refused like ECR refuses it.
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { startLoopbackServer, type RecordedRequest, type Reply } from '../../signing/kms/loopback-server.js';

export const ECR_TARGET_PREFIX = 'AmazonEC2ContainerRegistry_V20150921.';

export interface EcrStandInOptions {
  /** the password handed out (default: a random 64-character one; keep it ≤ 72 bytes, bcrypt's limit) */
  password?: string;
  /** access key id the SigV4 header must name (default `AKIACHAINSMITHTEST01`) */
  accessKeyId?: string;
  /** secret access key the SigV4 signature must be made with (default a fixed test value) */
  secretAccessKey?: string;
  /** region the SigV4 credential scope must name (default us-east-1) */
  region?: string;
  /** `proxyEndpoint` of the answer, e.g. `https://123456789012.dkr.ecr.us-east-1.amazonaws.com:40123` */
  proxyEndpoint?: string;
  /** lifetime of the handed-out token, seconds (default 12 h, like ECR) */
  expiresInSeconds?: number;
}

export interface EcrStandIn {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** what a process needs for @aws-sdk/client-ecr's default chain to reach the stand-in */
  env: Record<'AWS_ENDPOINT_URL_ECR' | 'AWS_ACCESS_KEY_ID' | 'AWS_SECRET_ACCESS_KEY' | 'AWS_REGION', string>;
  /** the password currently handed out */
  readonly password: string;
  setPassword(password: string): void;
  /** lifetime of tokens handed out from now on; negative: already expired */
  setExpiresIn(seconds: number): void;
  /** answer GetAuthorizationToken with this AWS error (e.g. `AccessDeniedException`, 400) until called with undefined */
  setFailure(failure: { type: string; status: number } | undefined): void;
  /** GetAuthorizationToken calls answered with a token */
  tokenCalls(): number;
  /** every request received (no secret in them: SigV4 sends a signature, not the secret key) */
  requests: RecordedRequest[];
  /** requests refused (bad SigV4 header, unknown operation) */
  refused(): number;
  close(): Promise<void>;
}

const sha256Hex = (data: string): string => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string): Buffer => createHmac('sha256', key).update(data).digest();
const rfc3986 = (s: string): string =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** The SigV4 signature of a recorded request, as AWS computes it (header-signed requests). */
export function sigV4Signature(
  req: RecordedRequest,
  secretAccessKey: string,
  scope: { date: string; region: string; service: string },
  signedHeaders: string[],
): string {
  const url = new URL(req.url, 'http://standin');
  const query = [...url.searchParams.entries()]
    .map(([k, v]) => [rfc3986(k), rfc3986(v)] as const)
    .sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const headers = signedHeaders
    .map(
      (h) =>
        `${h}:${String(req.headers[h] ?? '')
          .trim()
          .replace(/\s+/g, ' ')}\n`,
    )
    .join('');
  const payload = String(req.headers['x-amz-content-sha256'] ?? sha256Hex(req.body));
  const canonical = [req.method, url.pathname, query, headers, signedHeaders.join(';'), payload].join('\n');
  const credentialScope = `${scope.date}/${scope.region}/${scope.service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', String(req.headers['x-amz-date'] ?? ''), credentialScope, sha256Hex(canonical)];
  const key = hmac(hmac(hmac(hmac(`AWS4${secretAccessKey}`, scope.date), scope.region), scope.service), 'aws4_request');
  return createHmac('sha256', key).update(toSign.join('\n')).digest('hex');
}

function awsError(status: number, type: string, message: string): Reply {
  return {
    status,
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': type },
    body: { __type: type, message },
  };
}

/** Starts the ECR stand-in on a free loopback port. */
export async function startEcrStandIn(opts: EcrStandInOptions = {}): Promise<EcrStandIn> {
  let password = opts.password ?? randomBytes(48).toString('base64url');
  let expiresIn = opts.expiresInSeconds ?? 12 * 3600;
  let failure: { type: string; status: number } | undefined;
  let calls = 0;
  let refused = 0;
  const accessKeyId = opts.accessKeyId ?? 'AKIACHAINSMITHTEST01';
  const secretAccessKey = opts.secretAccessKey ?? 'chainsmith-test-secret-access-key';
  const region = opts.region ?? 'us-east-1';

  const handle = (req: RecordedRequest): Reply => {
    const target = String(req.headers['x-amz-target'] ?? '');
    const auth = String(req.headers.authorization ?? '');
    const scope =
      /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(
        auth,
      );
    if (req.method !== 'POST' || req.url !== '/') {
      refused++;
      return awsError(404, 'UnknownOperationException', `${req.method} ${req.url}`);
    }
    if (!scope) {
      refused++;
      return awsError(403, 'MissingAuthenticationTokenException', 'Missing or malformed SigV4 Authorization header');
    }
    if (scope[1] !== accessKeyId) {
      refused++;
      return awsError(400, 'UnrecognizedClientException', 'The security token included in the request is invalid.');
    }
    if (scope[3] !== region || scope[4] !== 'ecr' || !scope[5]!.split(';').includes('x-amz-target')) {
      refused++;
      return awsError(
        403,
        'InvalidSignatureException',
        `credential scope ${scope[3]}/${scope[4]} is not ${region}/ecr`,
      );
    }
    const signed = scope[5]!.split(';');
    if (scope[6] !== sigV4Signature(req, secretAccessKey, { date: scope[2]!, region, service: 'ecr' }, signed)) {
      refused++;
      return awsError(
        403,
        'InvalidSignatureException',
        'The request signature we calculated does not match the signature you provided.',
      );
    }
    if (target !== `${ECR_TARGET_PREFIX}GetAuthorizationToken`) {
      refused++;
      return awsError(400, 'UnknownOperationException', `operation ${target} is not served by this stand-in`);
    }
    if (failure) return awsError(failure.status, failure.type, `stand-in failure ${failure.type}`);
    calls++;
    return {
      status: 200,
      headers: { 'content-type': 'application/x-amz-json-1.1' },
      body: {
        authorizationData: [
          {
            authorizationToken: Buffer.from(`AWS:${password}`).toString('base64'),
            // JSON 1.1 timestamps are epoch seconds
            expiresAt: Math.floor(Date.now() / 1000) + expiresIn,
            proxyEndpoint: opts.proxyEndpoint ?? `https://123456789012.dkr.ecr.${region}.amazonaws.com`,
          },
        ],
      },
    };
  };

  const server = await startLoopbackServer(handle);
  return {
    url: server.url,
    env: {
      AWS_ENDPOINT_URL_ECR: server.url,
      AWS_ACCESS_KEY_ID: accessKeyId,
      AWS_SECRET_ACCESS_KEY: secretAccessKey,
      AWS_REGION: region,
    },
    get password() {
      return password;
    },
    setPassword: (p) => {
      password = p;
    },
    setExpiresIn: (s) => {
      expiresIn = s;
    },
    setFailure: (f) => {
      failure = f;
    },
    tokenCalls: () => calls,
    requests: server.requests,
    refused: () => refused,
    close: () => server.close(),
  };
}
