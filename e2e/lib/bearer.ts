// The API server as someone other than the stack's admin: a bearer token of a ServiceAccount (from the TokenRequest
// API) and nothing else, so what succeeds is exactly what RBAC grants that identity. Unlike `--as` impersonation,
// no admin credential is on the request at all.
import { readFile } from 'node:fs/promises';
import { request } from 'node:https';
import { join } from 'node:path';
import { stackEnv } from './env.js';
import { serviceAccountToken } from './identity.js';
import { runCommand, type CommandResult } from './scenario.js';

/** The stack's kube-apiserver URL and the CA file that verifies it. */
function apiServer(): { server: string; ca: string } {
  const env = stackEnv();
  const server = process.env.CHAINSMITH_STACK_APISERVER ?? env.vars.CHAINSMITH_STACK_APISERVER;
  if (!server) throw new Error('CHAINSMITH_STACK_APISERVER is not in the stack environment (run `npm run stack:up`)');
  return { server, ca: join(env.stackDir, 'pki', 'ca.crt') };
}

/**
 * A token of ServiceAccount `ns/sa` that the stack's API server accepts (its audience is the API server's
 * ServiceAccount issuer, which is also its default API audience).
 */
export async function apiServerToken(ns: string, sa: string, seconds = 600): Promise<string> {
  return serviceAccountToken(ns, sa, apiServer().server, seconds);
}

/**
 * Runs the stack's kubectl with `token` as its only credential (no kubeconfig is read; `input` on stdin); a
 * non-zero exit is a result. A refusal by RBAC reads `Error from server (Forbidden)`: HTTP 403.
 */
export function kubectlWithToken(token: string, args: string[], input?: string): Promise<CommandResult> {
  const { server, ca } = apiServer();
  return runCommand(
    stackEnv().kubectl,
    ['--kubeconfig=/dev/null', `--server=${server}`, `--certificate-authority=${ca}`, `--token=${token}`, ...args],
    { timeoutMs: 60_000, input, env: { KUBECONFIG: '' } },
  );
}

/** What the API server answered to one request: the HTTP status and the body (a Status object on errors). */
export interface ApiAnswer {
  status: number;
  body: { reason?: string; message?: string; [field: string]: unknown };
}

/**
 * One HTTP request to the stack's API server with `token` as its only credential, for what kubectl cannot send on
 * its own (e.g. a PATCH without the GET kubectl does first). `body` is sent as JSON unless `contentType` says
 * otherwise (merge patch: `application/merge-patch+json`).
 */
export async function apiRequestWithToken(
  token: string,
  method: string,
  path: string,
  body?: unknown,
  contentType = 'application/json',
): Promise<ApiAnswer> {
  const { server, ca } = apiServer();
  const url = new URL(path, server);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const caPem = await readFile(ca);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method,
        ca: caPem,
        headers: {
          authorization: `Bearer ${token}`,
          accept: 'application/json',
          ...(payload === undefined ? {} : { 'content-type': contentType }),
        },
        timeout: 30_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: ApiAnswer['body'];
          try {
            parsed = JSON.parse(text) as ApiAnswer['body'];
          } catch {
            parsed = { message: text };
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer in 30 s`)));
    req.on('error', reject);
    req.end(payload);
  });
}
