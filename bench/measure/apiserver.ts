// API requests as the API server counts them: apiserver_request_total over every resource
// request (non-resource paths such as /metrics and /readyz excluded), in total and by
// "VERB resource[/subresource]". The harness's own requests are counted client-side and
// subtracted by the caller.
import type { HarnessApi } from '../lib/api.js';

export interface RequestCounts {
  total: number;
  byKind: Map<string, number>;
}

/** Resource requests the API server has served so far. */
export async function apiserverRequests(api: HarnessApi): Promise<RequestCounts> {
  const text = await api.metrics();
  const byKind = new Map<string, number>();
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith('apiserver_request_total{')) continue;
    const label = (k: string): string => new RegExp(`[{,]${k}="([^"]*)"`).exec(line)?.[1] ?? '';
    const resource = label('resource');
    if (!resource) continue;
    const n = Number(line.slice(line.lastIndexOf(' ') + 1));
    const sub = label('subresource');
    const kind = `${label('verb')} ${resource}${sub ? '/' + sub : ''}`;
    byKind.set(kind, (byKind.get(kind) ?? 0) + n);
    total += n;
  }
  return { total, byKind };
}

/** `after - before`, per kind, dropping zeros. */
export function requestDelta(before: RequestCounts, after: RequestCounts): Map<string, number> {
  const out = new Map<string, number>();
  for (const [k, v] of after.byKind) {
    const d = v - (before.byKind.get(k) ?? 0);
    if (d > 0) out.set(k, d);
  }
  return out;
}
