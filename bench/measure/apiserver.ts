// API requests as the API server counts them: the sum of apiserver_request_total over every
// resource request (non-resource paths such as /metrics and /readyz excluded). The harness's own
// requests are counted client-side and subtracted by the caller.
import type { ApiClient } from '../lib/api.js';

/** Total resource requests the API server has served so far. */
export async function apiserverRequestTotal(api: ApiClient): Promise<number> {
  const text = await api.call<string>('GET', '/metrics', undefined, undefined, 30_000);
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith('apiserver_request_total{')) continue;
    if (/[{,]resource=""/.test(line)) continue;
    total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}
