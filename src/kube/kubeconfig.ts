// Where the API server is and how to authenticate to it: a kubeconfig (`--kubeconfig`, else `$KUBECONFIG`, a
// colon-separated list merged the way kubectl merges it) or the in-cluster ServiceAccount. Read with our own
// small loader instead of @kubernetes/client-node's KubeConfig, whose module graph (every generated API model)
// costs the controller ~70 MiB of resident memory (bench/findings.md). Only kubeconfig features the lean path
// does not cover (`auth-provider`, `proxy-url`) load client-node, on demand (credentials.ts).
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { parse as parseYaml } from 'yaml';

/** TLS settings for the connection to the API server. */
export interface ClusterTls {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  /** false only for `insecure-skip-tls-verify: true` */
  rejectUnauthorized: boolean;
  servername?: string;
}

/** One exec credential plugin (client.authentication.k8s.io ExecCredential). */
export interface ExecConfig {
  command: string;
  args: string[];
  env: Array<{ name: string; value: string }>;
  apiVersion: string;
  /** the kubeconfig's directory: a relative command is resolved against it, as kubectl does */
  baseDir: string;
}

/** How requests authenticate. */
export type UserAuth =
  | { kind: 'none' }
  | { kind: 'token'; token: string }
  /** re-read periodically: projected ServiceAccount tokens rotate */
  | { kind: 'token-file'; path: string }
  | { kind: 'basic'; username: string; password: string }
  | { kind: 'exec'; exec: ExecConfig }
  /** kubeconfig features only @kubernetes/client-node implements, loaded from `file` on demand */
  | { kind: 'client-node'; file: string | undefined; why: string };

/** A resolved connection: the server, its TLS settings, the credentials, and the context's namespace. */
export interface ClusterConnection {
  server: string;
  tls: ClusterTls;
  auth: UserAuth;
  /** the current context's namespace (the ServiceAccount's namespace in a cluster); undefined when unset */
  namespace: string | undefined;
  contextName: string;
}

const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** Loads a connection from `--kubeconfig`, else `KUBECONFIG`, else in-cluster. */
export function loadClusterConnection(file?: string, env: NodeJS.ProcessEnv = process.env): ClusterConnection {
  if (file) return fromKubeconfigFiles([file]);
  if (env.KUBECONFIG) return fromKubeconfigFiles(env.KUBECONFIG.split(':').filter((f) => f !== ''));
  if (env.KUBERNETES_SERVICE_HOST && env.KUBERNETES_SERVICE_PORT) return inCluster(env.KUBERNETES_SERVICE_HOST, env.KUBERNETES_SERVICE_PORT);
  // otherwise every request would fail later with an unhelpful URL error
  throw new Error('no Kubernetes configuration: pass --kubeconfig FILE or set KUBECONFIG (not running in a cluster)');
}

/** The pod's own ServiceAccount: token file (re-read as it rotates), CA and namespace from the mount. */
export function inCluster(host: string, port: string, dir = SERVICE_ACCOUNT_DIR): ClusterConnection {
  const h = host.includes(':') ? `[${host}]` : host;
  return {
    server: `https://${h}:${port}`,
    tls: { ca: readFileSync(join(dir, 'ca.crt')), rejectUnauthorized: true },
    auth: { kind: 'token-file', path: join(dir, 'token') },
    namespace: readOptional(join(dir, 'namespace'))?.trim(),
    contextName: 'in-cluster',
  };
}

type Entry = Record<string, unknown>;

/** Merges kubeconfig files (first definition of a name wins, first current-context wins) and resolves it. */
export function fromKubeconfigFiles(files: string[]): ClusterConnection {
  const clusters = new Map<string, { entry: Entry; dir: string }>();
  const users = new Map<string, { entry: Entry; dir: string }>();
  const contexts = new Map<string, Entry>();
  let current: string | undefined;
  let read = 0;
  for (const f of files) {
    let text: string | undefined;
    try {
      text = readFileSync(f, 'utf8');
    } catch (err) {
      // kubectl skips missing files of a KUBECONFIG list, but a single explicit file must exist
      if (files.length === 1 || (err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`cannot read kubeconfig ${f}: ${(err as Error).message}`);
      continue;
    }
    read++;
    const doc = (parseYaml(text) ?? {}) as Entry;
    if (typeof doc !== 'object' || Array.isArray(doc)) throw new Error(`kubeconfig ${f} is not a YAML mapping`);
    const dir = dirname(f);
    for (const c of list(doc.clusters, f, 'clusters')) if (c.name && !clusters.has(c.name)) clusters.set(c.name, { entry: obj(c.cluster), dir });
    for (const u of list(doc.users, f, 'users')) if (u.name && !users.has(u.name)) users.set(u.name, { entry: obj(u.user), dir });
    for (const c of list(doc.contexts, f, 'contexts')) if (c.name && !contexts.has(c.name)) contexts.set(c.name, obj(c.context));
    if (!current && typeof doc['current-context'] === 'string' && doc['current-context'] !== '') current = doc['current-context'];
  }
  if (read === 0) throw new Error(`none of the kubeconfig files exist: ${files.join(', ')}`);
  if (!current) throw new Error('the kubeconfig has no current-context');
  const context = contexts.get(current);
  if (!context) throw new Error(`the kubeconfig's current context "${current}" is not defined`);
  const cluster = typeof context.cluster === 'string' ? clusters.get(context.cluster) : undefined;
  const server = cluster?.entry.server;
  if (typeof server !== 'string' || server === '') throw new Error(`the kubeconfig's current context "${current}" names no cluster server`);
  const user = typeof context.user === 'string' ? users.get(context.user) : undefined;
  const fallbackFile = files.length === 1 ? files[0] : undefined;
  const tls: ClusterTls = {
    ca: material(cluster!.entry, 'certificate-authority', cluster!.dir),
    rejectUnauthorized: cluster!.entry['insecure-skip-tls-verify'] !== true,
    ...(typeof cluster!.entry['tls-server-name'] === 'string' ? { servername: cluster!.entry['tls-server-name'] } : {}),
    ...(user ? { cert: material(user.entry, 'client-certificate', user.dir), key: material(user.entry, 'client-key', user.dir) } : {}),
  };
  let auth = user ? userAuth(user.entry, user.dir) : ({ kind: 'none' } as UserAuth);
  if (typeof cluster!.entry['proxy-url'] === 'string') auth = { kind: 'client-node', file: undefined, why: 'proxy-url' };
  if (auth.kind === 'client-node') auth = { ...auth, file: fallbackFile };
  if (auth.kind === 'client-node' && auth.file === undefined) {
    throw new Error(`the kubeconfig uses ${auth.why}, which is supported only from a single --kubeconfig file, not a KUBECONFIG list`);
  }
  return { server, tls, auth, namespace: typeof context.namespace === 'string' && context.namespace !== '' ? context.namespace : undefined, contextName: current };
}

function userAuth(u: Entry, dir: string): UserAuth {
  if (u['auth-provider'] !== undefined) return { kind: 'client-node', file: undefined, why: 'auth-provider' };
  if (typeof u.token === 'string' && u.token !== '') return { kind: 'token', token: u.token };
  if (typeof u.tokenFile === 'string' && u.tokenFile !== '') return { kind: 'token-file', path: resolvePath(u.tokenFile, dir) };
  if (typeof u.username === 'string' && u.username !== '') return { kind: 'basic', username: u.username, password: typeof u.password === 'string' ? u.password : '' };
  const exec = u.exec as Entry | undefined;
  if (exec && typeof exec === 'object') {
    if (typeof exec.command !== 'string' || exec.command === '') throw new Error('the kubeconfig user has an exec plugin without a command');
    return {
      kind: 'exec',
      exec: {
        command: exec.command,
        args: Array.isArray(exec.args) ? exec.args.map(String) : [],
        env: Array.isArray(exec.env) ? (exec.env as Entry[]).map((e) => ({ name: String(e.name), value: String(e.value ?? '') })) : [],
        apiVersion: typeof exec.apiVersion === 'string' ? exec.apiVersion : 'client.authentication.k8s.io/v1',
        baseDir: dir,
      },
    };
  }
  return { kind: 'none' };
}

/** `<name>-data` (base64) or `<name>` (a file, relative to the kubeconfig's directory). */
function material(e: Entry, name: string, dir: string): Buffer | undefined {
  const data = e[`${name}-data`];
  if (typeof data === 'string' && data !== '') return Buffer.from(data, 'base64');
  const file = e[name];
  if (typeof file === 'string' && file !== '') {
    const p = resolvePath(file, dir);
    try {
      return readFileSync(p);
    } catch (err) {
      throw new Error(`cannot read the kubeconfig's ${name} ${p}: ${(err as Error).message}`);
    }
  }
  return undefined;
}

function resolvePath(p: string, dir: string): string {
  return isAbsolute(p) ? p : join(dir, p);
}

function list(v: unknown, file: string, key: string): Array<Entry & { name: string | undefined }> {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new Error(`kubeconfig ${file}: "${key}" is not a list`);
  return v.filter((x): x is Entry => !!x && typeof x === 'object').map((x) => ({ ...x, name: typeof x.name === 'string' ? x.name : undefined }));
}

function obj(v: unknown): Entry {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Entry) : {};
}

function readOptional(p: string): string | undefined {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return undefined;
  }
}
