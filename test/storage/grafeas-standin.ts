// A STAND-IN for the grafeas.v1 API, because no Grafeas v1 server can run here: the open-source server (grafeas v0.2.3)
// serves only v1beta1, and Chains talks grafeas.v1 to a hard-coded Google host (containeranalysis.googleapis.com).
// It is a loopback @grpc/grpc-js server built from the grafeas v1 protos shipped inside @google-cloud/grafeas, so the
// storer's requests go through the real client and the real wire encoding. It keeps notes and occurrences in memory,
// answers ALREADY_EXISTS for a duplicate note, NOT_FOUND for an occurrence of a missing note, INVALID_ARGUMENT when an
// occurrence's kind differs from its note's (as Grafeas does), filters on `resourceUrl="…"` terms joined by OR (the
// filters Chains sends), and fails calls on demand (`failNext`).
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

/** A note or occurrence as the stand-in keeps it: the decoded request object (camelCase, enums as names). */
export type StoredObject = Record<string, unknown> & { name: string };

export interface RecordedCall {
  method: string;
  request: Record<string, unknown>;
}

export interface GrafeasStandin {
  /** 127.0.0.1 */
  host: string;
  port: number;
  /** note name → note */
  notes: Map<string, StoredObject>;
  /** occurrence name → occurrence, in creation order */
  occurrences: Map<string, StoredObject>;
  calls: RecordedCall[];
  /** the next `count` calls of `method` (or of any method: `*`) fail with `code` */
  failNext(method: string, code: grpc.status, count?: number, message?: string): void;
  close(): Promise<void>;
}

const KINDS: Record<string, string> = { build: 'BUILD', attestation: 'ATTESTATION' };

/** `build/protos` of a package whose entry point is `build/src/index.js`. */
function protosDir(pkg: string): string {
  return path.join(path.dirname(createRequire(import.meta.url).resolve(pkg)), '..', 'protos');
}

/** The kind an object's oneof detail implies (`build` → BUILD), or undefined. */
function kindOf(obj: Record<string, unknown>): string | undefined {
  for (const [field, kind] of Object.entries(KINDS)) if (obj[field] !== undefined && obj[field] !== null) return kind;
  return undefined;
}

/** The URIs of a filter made of `resourceUrl="…"` terms joined by ` OR `; undefined for an empty filter. */
function resourceUrlsOf(filter: string): Set<string> | undefined {
  if (!filter.trim()) return undefined;
  const urls = new Set<string>();
  for (const term of filter.split(' OR ')) {
    const m = /^\s*resourceUrl\s*=\s*(".*")\s*$/.exec(term);
    if (!m) throw Object.assign(new Error(`unsupported filter term: ${term}`), { code: grpc.status.INVALID_ARGUMENT });
    urls.add(JSON.parse(m[1]!) as string);
  }
  return urls;
}

const now = (): { seconds: string; nanos: number } => {
  const ms = Date.now();
  return { seconds: String(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1_000_000 };
};

const fail = (code: grpc.status, details: string): Error & { code: grpc.status; details: string } =>
  Object.assign(new Error(details), { code, details });

/** Starts the stand-in on 127.0.0.1 with an ephemeral port. */
export async function startGrafeasStandin(): Promise<GrafeasStandin> {
  const dir = protosDir('@google-cloud/grafeas');
  // google/api/*.proto and the well-known types come with google-gax, the client's own runtime
  const def = protoLoader.loadSync(path.join(dir, 'grafeas/v1/grafeas.proto'), {
    includeDirs: [dir, protosDir('google-gax')],
    keepCase: false,
    longs: String,
    enums: String,
    defaults: false,
    oneofs: false,
  });
  // loadPackageDefinition returns a loosely typed tree; the service definition is all that is needed from it.
  const pkg = grpc.loadPackageDefinition(def) as unknown as {
    grafeas: { v1: { Grafeas: { service: grpc.ServiceDefinition } } };
  };

  const notes = new Map<string, StoredObject>();
  const occurrences = new Map<string, StoredObject>();
  const calls: RecordedCall[] = [];
  const failures: Array<{ method: string; code: grpc.status; left: number; message: string }> = [];

  const handle =
    (method: string, body: (req: Record<string, unknown>) => unknown): grpc.handleUnaryCall<unknown, unknown> =>
    (call, callback) => {
      const request = call.request as Record<string, unknown>;
      calls.push({ method, request });
      const f = failures.find((x) => (x.method === method || x.method === '*') && x.left > 0);
      if (f) {
        f.left--;
        callback(fail(f.code, f.message));
        return;
      }
      try {
        callback(null, body(request));
      } catch (err) {
        const e = err as { code?: grpc.status; message: string };
        callback(fail(e.code ?? grpc.status.INTERNAL, e.message));
      }
    };

  const noteOf = (name: string): StoredObject => {
    const n = notes.get(name);
    if (!n) throw fail(grpc.status.NOT_FOUND, `note ${name} not found`);
    return n;
  };
  const listed = (parentPrefix: string, filter: unknown, noteName?: string) => {
    const urls = resourceUrlsOf(typeof filter === 'string' ? filter : '');
    return {
      occurrences: [...occurrences.values()].filter(
        (o) =>
          o.name.startsWith(`${parentPrefix}/occurrences/`) &&
          (noteName === undefined || o.noteName === noteName) &&
          (urls === undefined || urls.has(String(o.resourceUri))),
      ),
    };
  };

  const server = new grpc.Server();
  server.addService(pkg.grafeas.v1.Grafeas.service, {
    CreateNote: handle('CreateNote', (req) => {
      const parent = String(req.parent ?? '');
      const noteId = String(req.noteId ?? '');
      if (!/^projects\/[^/]+$/.test(parent) || !noteId) throw fail(grpc.status.INVALID_ARGUMENT, 'parent/noteId');
      const name = `${parent}/notes/${noteId}`;
      if (notes.has(name)) throw fail(grpc.status.ALREADY_EXISTS, `note ${name} already exists`);
      const note = (req.note ?? {}) as Record<string, unknown>;
      const kind = kindOf(note);
      if (!kind) throw fail(grpc.status.INVALID_ARGUMENT, 'note has no type');
      const stored: StoredObject = { ...note, name, kind, createTime: now(), updateTime: now() };
      notes.set(name, stored);
      return stored;
    }),
    GetNote: handle('GetNote', (req) => noteOf(String(req.name))),
    CreateOccurrence: handle('CreateOccurrence', (req) => {
      const parent = String(req.parent ?? '');
      const occ = (req.occurrence ?? {}) as Record<string, unknown>;
      if (!/^projects\/[^/]+$/.test(parent)) throw fail(grpc.status.INVALID_ARGUMENT, 'parent');
      if (!occ.resourceUri) throw fail(grpc.status.INVALID_ARGUMENT, 'resource_uri is required');
      const note = noteOf(String(occ.noteName ?? ''));
      const kind = kindOf(occ);
      if (kind !== note.kind) {
        throw fail(grpc.status.INVALID_ARGUMENT, `occurrence kind ${kind} does not match note kind ${note.kind}`);
      }
      const name = `${parent}/occurrences/${randomUUID()}`;
      const stored: StoredObject = { ...occ, name, kind, createTime: now(), updateTime: now() };
      occurrences.set(name, stored);
      return stored;
    }),
    GetOccurrence: handle('GetOccurrence', (req) => {
      const o = occurrences.get(String(req.name));
      if (!o) throw fail(grpc.status.NOT_FOUND, `occurrence ${String(req.name)} not found`);
      return o;
    }),
    ListOccurrences: handle('ListOccurrences', (req) => listed(String(req.parent), req.filter)),
    ListNoteOccurrences: handle('ListNoteOccurrences', (req) => {
      const name = String(req.name ?? '');
      noteOf(name);
      return listed(name.replace(/\/notes\/[^/]+$/, ''), req.filter, name);
    }),
  });

  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );

  return {
    host: '127.0.0.1',
    port,
    notes,
    occurrences,
    calls,
    failNext(method, code, count = 1, message = 'injected failure') {
      failures.push({ method, code, left: count, message });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.tryShutdown(() => resolve());
      }),
  };
}
