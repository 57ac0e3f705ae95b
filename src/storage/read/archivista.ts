// Reads back the `archivista` backend: Archivista indexes each uploaded envelope by the subjects of its statement, so
// the run's provenance is found with a GraphQL query (`/query`) by the digests the run's results name, each envelope
// downloaded by gitoid (`/download/<gitoid>`), and only those whose signed statement names this run are kept. A run
// whose results name no digest cannot be found this way (Archivista has no index by run).
import type { ChainsConfig } from '../../config/types.js';
import { ChainsmithError } from '../../errors.js';
import { parseEnvelope } from '../../sigstore/dsse.js';
import type { Run } from '../../tekton/types.js';
import { displayUrl, invalidConfig, isNetworkError, isTransientStatus, storageFailed } from '../backend-errors.js';
import { resultDigests } from './digests.js';
import { ownShortKey, type ReadContext, type StoredReader, type StoredSignature } from './types.js';

const TIMEOUT_MS = 30_000;
const PAGE = 100;
/** at most this many envelopes per run are downloaded (an image built by thousands of runs is a bad key to search) */
const MAX_ENVELOPES = 1_000;

const QUERY = `query ($digests: [String!], $after: Cursor) {
  dsses(first: ${PAGE}, after: $after,
        where: {hasStatementWith: {hasSubjectsWith: {hasSubjectDigestsWith: {valueIn: $digests}}}}) {
    edges { node { gitoidSha256 } }
    pageInfo { hasNextPage endCursor }
  }
}`;

interface QueryAnswer {
  data?: {
    dsses?: {
      edges?: Array<{ node?: { gitoidSha256?: string } }>;
      pageInfo?: { hasNextPage?: boolean; endCursor?: string };
    };
  };
  errors?: Array<{ message?: string }>;
}

/** The `archivista` reader. */
export class ArchivistaReader implements StoredReader {
  readonly name = 'archivista';
  readonly location: string;
  private readonly base: URL;
  private readonly authorization: string | undefined;

  constructor(
    config: ChainsConfig,
    private readonly fetchFn: typeof fetch = fetch,
  ) {
    const raw = config.storage.archivista.url?.trim();
    if (!raw)
      throw invalidConfig('archivista', 'storage.archivista.url is not set in chains-config: no server to read');
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw invalidConfig('archivista', `storage.archivista.url ${displayUrl(raw)} is not a URL`);
    }
    if (url.username || url.password) {
      const creds = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
      this.authorization = `Basic ${Buffer.from(creds).toString('base64')}`;
      url.username = '';
      url.password = '';
    }
    this.base = url;
    this.location = displayUrl(url.href);
  }

  async read(run: Run, ctx: ReadContext): Promise<StoredSignature[]> {
    const digests = [...new Set(resultDigests(run).map((d) => d.hex))];
    if (digests.length === 0) return [];
    const gitoids = await this.gitoids(digests);
    const own = ownShortKey(run);
    const out: StoredSignature[] = [];
    for (const gitoid of gitoids) {
      const body = await this.download(gitoid);
      const env = parseEnvelope(body);
      if (!env || !ctx.ownsStatement(env.payload)) continue;
      out.push({ shortKey: own, payload: env.payload, signature: body, where: `gitoid ${gitoid} on ${this.location}` });
    }
    return out;
  }

  private async gitoids(digests: string[]): Promise<string[]> {
    const out: string[] = [];
    let after: string | undefined;
    do {
      const r = await this.request('query', {
        method: 'POST',
        body: JSON.stringify({ query: QUERY, variables: { digests, after: after ?? null } }),
      });
      const text = await r.text();
      let answer: QueryAnswer;
      try {
        answer = JSON.parse(text) as QueryAnswer;
      } catch {
        answer = {};
      }
      if (r.status !== 200 || answer.errors?.length || !answer.data?.dsses) {
        const why = answer.errors?.map((e) => e.message ?? '').join('; ') || `HTTP ${r.status}: ${text.slice(0, 300)}`;
        throw storageFailed('archivista', `querying ${this.location}`, new Error(why), isTransientStatus(r.status));
      }
      for (const e of answer.data.dsses.edges ?? []) if (e.node?.gitoidSha256) out.push(e.node.gitoidSha256);
      const page = answer.data.dsses.pageInfo;
      after = page?.hasNextPage && page.endCursor ? page.endCursor : undefined;
    } while (after && out.length < MAX_ENVELOPES);
    return [...new Set(out)].slice(0, MAX_ENVELOPES);
  }

  private async download(gitoid: string): Promise<Buffer> {
    if (!/^[0-9a-f]{64}$/.test(gitoid))
      throw new ChainsmithError('StorageFailed', `archivista: the server answered a gitoid that is not 64 hex`);
    const r = await this.request(`download/${gitoid}`, { method: 'GET' });
    const body = Buffer.from(await r.arrayBuffer());
    if (r.status !== 200)
      throw storageFailed(
        'archivista',
        `downloading ${gitoid} from ${this.location}`,
        new Error(`HTTP ${r.status}: ${body.toString('utf8').slice(0, 300)}`),
        isTransientStatus(r.status),
      );
    return body;
  }

  private async request(path: string, init: { method: string; body?: string }): Promise<Response> {
    const url = new URL(this.base.href);
    url.pathname = `${url.pathname.replace(/\/+$/, '')}/${path}`;
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.authorization) headers.authorization = this.authorization;
    try {
      return await this.fetchFn(url, { ...init, headers, signal: AbortSignal.timeout(TIMEOUT_MS) });
    } catch (err) {
      throw storageFailed('archivista', `${init.method} ${this.location}${path}`, err, isNetworkError(err));
    }
  }
}
