// Where the API server is and how to authenticate to it: a kubeconfig (`--kubeconfig`, else `$KUBECONFIG`, a
// colon-separated list merged the way kubectl merges it) or the in-cluster ServiceAccount. Read with our own
// small loader instead of @kubernetes/client-node's KubeConfig, whose module graph (every generated API model)
// costs the controller ~70 MiB of resident memory (bench/findings.md). Every kubeconfig feature is either
// implemented here or refused by name — none is silently ignored, and no `auth-provider` command ever runs.
import { dirname, isAbsolute, join } from 'node:path';
import { isScalar, LineCounter, parseDocument, visit, type Document } from 'yaml';
import {
  countYamlNodes,
  flowNestingOffset,
  lineAndColumn,
  MAX_NESTING_DEPTH,
  MAX_YAML_NODES,
} from '../input/documents.js';
import { escapeTerminal } from '../text/terminal.js';
import { FileReadError, MAX_CREDENTIAL_FILE_BYTES, MAX_KUBECONFIG_BYTES, readBoundedFileSync } from './files.js';

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
  /** `provideClusterInfo: true`: the plugin gets the cluster in KUBERNETES_EXEC_INFO */
  cluster?: Record<string, unknown>;
}

/** How requests authenticate. */
export type UserAuth =
  | { kind: 'none' }
  | { kind: 'token'; token: string }
  /** re-read periodically: projected ServiceAccount tokens rotate */
  | { kind: 'token-file'; path: string }
  | { kind: 'basic'; username: string; password: string }
  | { kind: 'exec'; exec: ExecConfig };

/** The kubeconfig user's `as`, `as-uid`, `as-groups` and `as-user-extra`: sent as Impersonate-* headers. */
export interface Impersonation {
  user?: string;
  uid?: string;
  groups: string[];
  extra: Record<string, string[]>;
}

/** A resolved connection: the server, its TLS settings, the credentials, and the context's namespace. */
export interface ClusterConnection {
  server: string;
  tls: ClusterTls;
  auth: UserAuth;
  /** the current context's namespace (the ServiceAccount's namespace in a cluster); undefined when unset */
  namespace: string | undefined;
  contextName: string;
  /** the cluster's `proxy-url` (http:// or https://): requests tunnel through it with CONNECT */
  proxyUrl?: string;
  impersonate?: Impersonation;
}

const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
/** Most YAML aliases a kubeconfig may expand (kubeconfigs have none; a "billion laughs" file has many). */
export const MAX_KUBECONFIG_ALIASES = 100;

/** Loads a connection from `--kubeconfig`, else `KUBECONFIG`, else in-cluster. */
export function loadClusterConnection(
  file?: string,
  env: NodeJS.ProcessEnv = process.env,
  context?: string,
): ClusterConnection {
  if (file) return fromKubeconfigFiles([file], context);
  if (env.KUBECONFIG)
    return fromKubeconfigFiles(
      env.KUBECONFIG.split(':').filter((f) => f !== ''),
      context,
    );
  if (context !== undefined) {
    throw new Error(`--context ${show(context)} needs a kubeconfig: pass --kubeconfig FILE or set KUBECONFIG`);
  }
  if (env.KUBERNETES_SERVICE_HOST && env.KUBERNETES_SERVICE_PORT)
    return inCluster(env.KUBERNETES_SERVICE_HOST, env.KUBERNETES_SERVICE_PORT);
  // otherwise every request would fail later with an unhelpful URL error
  throw new Error('no Kubernetes configuration: pass --kubeconfig FILE or set KUBECONFIG (not running in a cluster)');
}

/** The pod's own ServiceAccount: token file (re-read as it rotates), CA and namespace from the mount. */
export function inCluster(host: string, port: string, dir = SERVICE_ACCOUNT_DIR): ClusterConnection {
  const h = host.includes(':') ? `[${host}]` : host;
  return {
    server: `https://${h}:${port}`,
    tls: {
      ca: readBoundedFileSync(join(dir, 'ca.crt'), MAX_CREDENTIAL_FILE_BYTES, 'the ServiceAccount CA'),
      rejectUnauthorized: true,
    },
    auth: { kind: 'token-file', path: join(dir, 'token') },
    namespace: readOptional(join(dir, 'namespace'))?.trim(),
    contextName: 'in-cluster',
  };
}

type Entry = Record<string, unknown>;

/**
 * Merges kubeconfig files (first definition of a name wins, first current-context wins) and resolves the named
 * context (kubectl's `--context`), else the current one.
 */
export function fromKubeconfigFiles(files: string[], contextName?: string): ClusterConnection {
  const clusters = new Map<string, { entry: Entry; dir: string }>();
  const users = new Map<string, { entry: Entry; dir: string }>();
  const contexts = new Map<string, Entry>();
  let current: string | undefined;
  let read = 0;
  for (const f of files) {
    let text: string;
    try {
      text = readBoundedFileSync(f, MAX_KUBECONFIG_BYTES, 'kubeconfig').toString('utf8');
    } catch (err) {
      // kubectl skips missing files of a KUBECONFIG list, but a single explicit file must exist
      if (files.length === 1 || !(err instanceof FileReadError) || err.code !== 'ENOENT') throw err;
      continue;
    }
    read++;
    const doc = (parseKubeconfigYaml(text, f) ?? {}) as Entry;
    if (typeof doc !== 'object' || Array.isArray(doc)) throw new Error(`kubeconfig ${show(f)} is not a YAML mapping`);
    const dir = dirname(f);
    for (const c of list(doc.clusters, f, 'clusters'))
      if (c.name && !clusters.has(c.name)) clusters.set(c.name, { entry: obj(c.cluster), dir });
    for (const u of list(doc.users, f, 'users'))
      if (u.name && !users.has(u.name)) users.set(u.name, { entry: obj(u.user), dir });
    for (const c of list(doc.contexts, f, 'contexts'))
      if (c.name && !contexts.has(c.name)) contexts.set(c.name, obj(c.context));
    if (!current && typeof doc['current-context'] === 'string' && doc['current-context'] !== '')
      current = doc['current-context'];
  }
  if (read === 0) throw new Error(`none of the kubeconfig files exist: ${files.map(show).join(', ')}`);
  if (contextName !== undefined) {
    if (!contexts.has(contextName)) {
      const known = [...contexts.keys()].map(show).join(', ') || 'none';
      throw new Error(`the kubeconfig has no context "${show(contextName)}" (contexts: ${known})`);
    }
    current = contextName;
  }
  if (!current) throw new Error('the kubeconfig has no current-context');
  const context = contexts.get(current);
  if (!context) throw new Error(`the kubeconfig's current context "${show(current)}" is not defined`);
  const cluster = typeof context.cluster === 'string' ? clusters.get(context.cluster) : undefined;
  const server = cluster?.entry.server;
  if (typeof server !== 'string' || server === '') {
    throw new Error(`the kubeconfig's current context "${show(current)}" names no cluster server`);
  }
  checkServerUrl(server, current);
  const userName = typeof context.user === 'string' ? context.user : undefined;
  const user = userName !== undefined ? users.get(userName) : undefined;
  const tls: ClusterTls = {
    ca: material(cluster!.entry, 'certificate-authority', cluster!.dir),
    rejectUnauthorized: cluster!.entry['insecure-skip-tls-verify'] !== true,
    ...(typeof cluster!.entry['tls-server-name'] === 'string' ? { servername: cluster!.entry['tls-server-name'] } : {}),
    ...(user
      ? {
          cert: material(user.entry, 'client-certificate', user.dir),
          key: material(user.entry, 'client-key', user.dir),
        }
      : {}),
  };
  const proxyUrl = proxyOf(cluster!.entry);
  const clusterInfo = {
    server,
    ...(tls.servername ? { 'tls-server-name': tls.servername } : {}),
    ...(tls.rejectUnauthorized ? {} : { 'insecure-skip-tls-verify': true }),
    ...(tls.ca ? { 'certificate-authority-data': tls.ca.toString('base64') } : {}),
    ...(proxyUrl ? { 'proxy-url': proxyUrl } : {}),
  };
  const auth = user ? userAuth(user.entry, user.dir, userName!, clusterInfo) : ({ kind: 'none' } as UserAuth);
  const impersonate = user ? impersonation(user.entry, userName!) : undefined;
  return {
    server,
    tls,
    auth,
    namespace: typeof context.namespace === 'string' && context.namespace !== '' ? context.namespace : undefined,
    contextName: current,
    ...(proxyUrl ? { proxyUrl } : {}),
    ...(impersonate ? { impersonate } : {}),
  };
}

/**
 * Parses YAML without echoing it: the `yaml` package's messages quote the offending source line, which in a
 * kubeconfig may hold a token, so only the file, line, column and the problem's code are reported. Duplicate
 * keys are found in one linear pass (the parser's own check is quadratic in the number of keys).
 */
function parseKubeconfigYaml(text: string, file: string): unknown {
  const lines = new LineCounter();
  const deep = flowNestingOffset(text, MAX_NESTING_DEPTH);
  if (deep !== undefined) {
    const p = lineAndColumn(text, deep);
    const where = `line ${p.line}, column ${p.col}`;
    throw new Error(
      `kubeconfig ${show(file)} is not valid YAML: nested deeper than ${MAX_NESTING_DEPTH} levels at ${where}`,
    );
  }
  // the parser's tree costs ~600 bytes a node: count nodes with the streaming lexer first (input/documents.ts)
  if (countYamlNodes(text, MAX_YAML_NODES) > MAX_YAML_NODES) {
    throw new Error(`kubeconfig ${show(file)} is not valid YAML: more than ${MAX_YAML_NODES} values`);
  }
  const doc = parseDocument(text, { uniqueKeys: false, prettyErrors: false, lineCounter: lines });
  const where = (offset: number): string => {
    const p = lines.linePos(offset);
    return `line ${p.line}, column ${p.col}`;
  };
  const err = doc.errors[0];
  if (err) throw new Error(`kubeconfig ${show(file)} is not valid YAML: ${err.code} at ${where(err.pos[0])}`);
  const dup = firstDuplicateKey(doc);
  if (dup !== undefined) throw new Error(`kubeconfig ${show(file)} is not valid YAML: DUPLICATE_KEY at ${where(dup)}`);
  try {
    return doc.toJS({ maxAliasCount: MAX_KUBECONFIG_ALIASES });
  } catch {
    // only alias expansion fails here; its message carries no source text, but say it in our words
    throw new Error(`kubeconfig ${show(file)} is not valid YAML: too many or undefined aliases`);
  }
}

/** The offset of the first key that repeats in its mapping, or undefined. */
function firstDuplicateKey(doc: Document): number | undefined {
  let found: number | undefined;
  visit(doc, {
    Map(_, map) {
      const seen = new Set<unknown>();
      for (const pair of map.items) {
        if (!isScalar(pair.key)) continue;
        if (seen.has(pair.key.value)) {
          found = pair.key.range?.[0] ?? 0;
          return visit.BREAK;
        }
        seen.add(pair.key.value);
      }
      return undefined;
    },
  });
  return found;
}

const PROVIDER_PLUGINS: Record<string, string> = {
  gcp: 'gke-gcloud-auth-plugin',
  azure: 'kubelogin',
  oidc: 'kubelogin (int128/kubelogin) or another OIDC exec plugin',
};

function userAuth(u: Entry, dir: string, name: string, cluster: Record<string, unknown>): UserAuth {
  if (u['auth-provider'] !== undefined) {
    // client-go removed the gcp and azure providers (kubectl 1.26); the remaining ones can run `cmd-path`
    // commands from the kubeconfig. Refused outright: credentials come from exec plugins only.
    const providerName = obj(u['auth-provider']).name;
    const provider = typeof providerName === 'string' ? providerName : 'unnamed';
    const plugin = PROVIDER_PLUGINS[provider] ?? 'the exec credential plugin your provider documents';
    throw new Error(
      `the kubeconfig user "${show(name)}" uses auth-provider "${show(provider)}", which kubectl no longer supports ` +
        `(removed in 1.26) and chainsmith refuses: configure an exec credential plugin instead (${plugin})`,
    );
  }
  if (typeof u.token === 'string' && u.token !== '') return { kind: 'token', token: u.token };
  if (typeof u.tokenFile === 'string' && u.tokenFile !== '')
    return { kind: 'token-file', path: resolvePath(u.tokenFile, dir) };
  if (typeof u.username === 'string' && u.username !== '')
    return { kind: 'basic', username: u.username, password: typeof u.password === 'string' ? u.password : '' };
  const exec = u.exec as Entry | undefined;
  if (exec && typeof exec === 'object') {
    if (typeof exec.command !== 'string' || exec.command === '') {
      throw new Error(`the kubeconfig user "${show(name)}" has an exec plugin without a command`);
    }
    // kubectl fails the same way without a terminal; a controller or CI job never has one
    if (exec.interactiveMode === 'Always') {
      throw new Error(
        `the kubeconfig user "${show(name)}" has an exec plugin with interactiveMode: Always, which needs a terminal ` +
          'chainsmith never gives it',
      );
    }
    return {
      kind: 'exec',
      exec: {
        command: exec.command,
        args: Array.isArray(exec.args) ? exec.args.map(String) : [],
        env: execEnv(exec.env),
        apiVersion: typeof exec.apiVersion === 'string' ? exec.apiVersion : 'client.authentication.k8s.io/v1',
        baseDir: dir,
        ...(exec.provideClusterInfo === true ? { cluster } : {}),
      },
    };
  }
  return { kind: 'none' };
}

/** `as`, `as-uid`, `as-groups`, `as-user-extra`; values must be valid header values. */
function impersonation(u: Entry, name: string): Impersonation | undefined {
  const bad = (field: string): Error =>
    new Error(`the kubeconfig user "${show(name)}" has an invalid ${field} (impersonation)`);
  const header = (v: unknown, field: string): string => {
    if (typeof v !== 'string' || !/^[\t\x20-\x7e\x80-\uffff]*$/.test(v)) throw bad(field);
    return v;
  };
  const strings = (v: unknown, field: string): string[] => {
    if (!Array.isArray(v)) throw bad(field);
    return v.map((x) => header(x, field));
  };
  const out: Impersonation = { groups: [], extra: {} };
  if (u.as !== undefined && u.as !== '') out.user = header(u.as, 'as');
  if (u['as-uid'] !== undefined && u['as-uid'] !== '') out.uid = header(u['as-uid'], 'as-uid');
  if (u['as-groups'] !== undefined && u['as-groups'] !== null) out.groups = strings(u['as-groups'], 'as-groups');
  const extra = u['as-user-extra'];
  if (extra !== undefined && extra !== null) {
    if (typeof extra !== 'object' || Array.isArray(extra)) throw bad('as-user-extra');
    for (const [k, v] of Object.entries(extra as Entry)) out.extra[k] = strings(v, 'as-user-extra');
  }
  const any =
    out.user !== undefined || out.uid !== undefined || out.groups.length > 0 || Object.keys(out.extra).length > 0;
  // the API server rejects groups, uid or extra without a user to impersonate; say so before any request
  if (any && out.user === undefined) {
    throw new Error(`the kubeconfig user "${show(name)}" sets as-groups, as-uid or as-user-extra without "as"`);
  }
  return any ? out : undefined;
}

/** The cluster's proxy-url: http and https proxies are tunnelled through; SOCKS is refused, not ignored. */
function proxyOf(c: Entry): string | undefined {
  const p = c['proxy-url'];
  if (p === undefined || p === null || p === '') return undefined;
  let url: URL;
  try {
    url = new URL(String(p));
  } catch {
    throw new Error("the kubeconfig cluster's proxy-url is not a URL");
  }
  // the URL may carry proxy credentials: only its scheme is ever quoted
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    const scheme = show(url.protocol.replace(/:$/, ''));
    throw new Error(
      `the kubeconfig cluster's proxy-url scheme "${scheme}" is not supported: use an http:// or https:// proxy`,
    );
  }
  return url.href;
}

/** An API server URL: http(s), and no credentials in it (they would be sent, and could end up in messages). */
function checkServerUrl(server: string, context: string): void {
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new Error(`the kubeconfig's current context "${show(context)}" has a cluster server that is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new Error(`the kubeconfig's cluster server must be an https:// or http:// URL, not ${show(url.protocol)}`);
  }
  if (url.username !== '' || url.password !== '') {
    throw new Error("the kubeconfig's cluster server URL carries credentials; put them in the user entry");
  }
}

/** `<name>-data` (base64) or `<name>` (a file, relative to the kubeconfig's directory). */
function material(e: Entry, name: string, dir: string): Buffer | undefined {
  const data = e[`${name}-data`];
  if (typeof data === 'string' && data !== '') return Buffer.from(data, 'base64');
  const file = e[name];
  if (typeof file === 'string' && file !== '') {
    return readBoundedFileSync(resolvePath(file, dir), MAX_CREDENTIAL_FILE_BYTES, `the kubeconfig's ${name}`);
  }
  return undefined;
}

function resolvePath(p: string, dir: string): string {
  return isAbsolute(p) ? p : join(dir, p);
}

function list(v: unknown, file: string, key: string): Array<Entry & { name: string | undefined }> {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new Error(`kubeconfig ${show(file)}: "${key}" is not a list`);
  return v
    .filter((x): x is Entry => !!x && typeof x === 'object')
    .map((x) => ({ ...x, name: typeof x.name === 'string' ? x.name : undefined }));
}

function obj(v: unknown): Entry {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Entry) : {};
}

// names and paths from a kubeconfig are shown escaped and short: the file may come from anywhere
function show(s: string): string {
  const e = escapeTerminal(s);
  return e.length > 200 ? `${e.slice(0, 200)}…` : e;
}

function readOptional(p: string): string | undefined {
  try {
    return readBoundedFileSync(p, MAX_CREDENTIAL_FILE_BYTES, 'file').toString('utf8');
  } catch {
    return undefined;
  }
}

/** An exec plugin's `env` list; an entry that is not `{name, value}` strings is refused, not stringified. */
function execEnv(env: unknown): ExecConfig['env'] {
  if (env === undefined || env === null) return [];
  if (!Array.isArray(env)) throw new Error("the kubeconfig user's exec plugin has an env that is not a list");
  return env.map((e: unknown, i) => {
    const entry = e as { name?: unknown; value?: unknown } | null;
    const value = entry?.value ?? '';
    if (typeof entry !== 'object' || entry === null || typeof entry.name !== 'string' || typeof value !== 'string') {
      throw new Error(`the kubeconfig user's exec plugin has env[${i}] that is not {name, value} strings`);
    }
    return { name: entry.name, value };
  });
}
