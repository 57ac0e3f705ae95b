// Reads back the `kafka` backend: the topic of `storage.pubsub.topic` is consumed once from the earliest offset up to
// the end offsets it had when reading started (bounded by a timeout), and kept in memory, so an audit of many runs
// consumes it once. For a run it keeps what belongs to it: the attestation records whose signed statement names the
// run (`ownsStatement`), and the image signatures whose digest that attestation, or the run's results, name.
// Records are those of src/storage/kafka.ts: value = signature, header `payload` = base64(payload).
import type { ChainsConfig } from '../../config/types.js';
import { COSIGN_SIGN_PREDICATE } from '../../formats/cosign-sign.js';
import { parseEnvelope } from '../../sigstore/dsse.js';
import type { Run } from '../../tekton/types.js';
import { redactCredentials, storageFailed } from '../backend-errors.js';
import { isTransientKafkaError, kafkaTarget } from '../kafka.js';
import { resultDigests, shortKeyOf, statementDigests } from './digests.js';
import { ownShortKey, type ReadContext, type StoredReader, type StoredSignature } from './types.js';

/** One consumed record. */
export interface ConsumedRecord {
  partition: number;
  offset: bigint;
  value: Buffer;
  headers: Map<string, Buffer>;
}

/** Reads every record of a topic present when it is called; `timeoutMs` bounds the whole read. */
export type KafkaTopicConsumer = (brokers: string[], topic: string, timeoutMs: number) => Promise<ConsumedRecord[]>;

const DEFAULT_TIMEOUT_MS = 30_000;

/** What one record is, decoded. */
interface Decoded {
  record: ConsumedRecord;
  payload: Buffer;
  /** the signed statement of a DSSE envelope value */
  statement?: Buffer;
  /** the sha256 hex the record signs (simplesigning payload, or cosign/sign statement subject) */
  signs?: string;
}

function isCosignSign(statement: Buffer): boolean {
  try {
    return (
      (JSON.parse(statement.toString('utf8')) as { predicateType?: unknown }).predicateType === COSIGN_SIGN_PREDICATE
    );
  } catch {
    return false;
  }
}

function decode(record: ConsumedRecord): Decoded {
  const header = record.headers.get('payload');
  const payload = header ? Buffer.from(header.toString('utf8'), 'base64') : Buffer.alloc(0);
  const out: Decoded = { record, payload };
  const env = record.value[0] === 0x7b ? parseEnvelope(record.value) : undefined;
  if (env) {
    out.statement = env.payload;
    // an image signature with the sigstore-bundle encoding is the envelope of a cosign/sign/v1 statement about it;
    // another run's provenance about the same image is not one
    const hex = isCosignSign(env.payload) ? statementDigests(env.payload)[0]?.hex : undefined;
    if (hex) out.signs = hex;
    return out;
  }
  try {
    const claims = JSON.parse(payload.toString('utf8')) as {
      critical?: { image?: { 'docker-manifest-digest'?: unknown } };
    };
    const digest = claims.critical?.image?.['docker-manifest-digest'];
    if (typeof digest === 'string' && digest.startsWith('sha256:')) out.signs = digest.slice('sha256:'.length);
  } catch {
    // not a simple-signing payload: not an image signature of ours
  }
  return out;
}

/** The `kafka` reader. */
export class KafkaReader implements StoredReader {
  readonly name = 'kafka';
  readonly location: string;
  private readonly topic: string;
  private readonly brokers: string[];
  private records: Promise<Decoded[]> | undefined;

  constructor(
    config: ChainsConfig,
    private readonly consume: KafkaTopicConsumer = consumePlatformatic,
    private readonly timeoutMs = DEFAULT_TIMEOUT_MS,
  ) {
    const target = kafkaTarget(config);
    this.topic = target.topic;
    this.brokers = target.brokers;
    this.location = `topic ${target.topic} on ${redactCredentials(target.brokers.join(','))}`;
  }

  async read(run: Run, ctx: ReadContext): Promise<StoredSignature[]> {
    const all = await this.all();
    const own = ownShortKey(run);
    const out: StoredSignature[] = [];
    const seen = new Set<string>();
    const push = (d: Decoded, shortKey: string) => {
      const id = `${shortKey}\0${d.record.value.toString('base64')}`;
      if (seen.has(id)) return; // a retried send: the same signature twice
      seen.add(id);
      const entry: StoredSignature = {
        shortKey,
        payload: d.payload,
        signature: d.record.value,
        where: `record ${d.record.partition}/${d.record.offset} of ${this.location}`,
      };
      if (d.payload.length === 0)
        entry.problem = `record ${d.record.partition}/${d.record.offset} has no payload header`;
      out.push(entry);
    };
    const wanted = new Set(resultDigests(run).map((d) => d.hex));
    for (const d of all) {
      if (d.statement && ctx.ownsStatement(d.statement)) {
        push(d, own);
        for (const s of statementDigests(d.statement)) wanted.add(s.hex);
      }
    }
    for (const d of all) {
      if (d.signs === undefined || (d.statement && ctx.ownsStatement(d.statement))) continue;
      if (wanted.has(d.signs)) push(d, shortKeyOf(d.signs));
    }
    return out;
  }

  private all(): Promise<Decoded[]> {
    this.records ??= this.consume(this.brokers, this.topic, this.timeoutMs).then(
      (records) => records.map(decode),
      (err: unknown) => {
        this.records = undefined;
        throw storageFailed('kafka', `reading ${this.location}`, err, isTransientKafkaError(err));
      },
    );
    return this.records;
  }
}

/** Consumes with @platformatic/kafka: end offsets first, then every partition from the earliest offset up to them. */
async function consumePlatformatic(brokers: string[], topic: string, timeoutMs: number): Promise<ConsumedRecord[]> {
  const { Consumer, MessagesStreamModes } = await import('@platformatic/kafka');
  const consumer = new Consumer({
    groupId: `chainsmith-read-${process.pid}-${Date.now()}`,
    clientId: 'chainsmith',
    bootstrapBrokers: brokers,
    timeout: Math.min(timeoutMs, 10_000),
    retries: 1,
  });
  const out: ConsumedRecord[] = [];
  try {
    const ends = (await consumer.listOffsets({ topics: [topic] })).get(topic) ?? [];
    const remaining = new Map<number, bigint>();
    ends.forEach((end, partition) => {
      if (end > 0n) remaining.set(partition, end);
    });
    if (remaining.size === 0) return out;
    const stream = await consumer.consume({
      topics: [topic],
      mode: MessagesStreamModes.EARLIEST,
      autocommit: false,
      maxWaitTime: 500,
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      stream.destroy();
    }, timeoutMs);
    try {
      for await (const m of stream) {
        const partition = m.partition ?? 0;
        const headers = new Map<string, Buffer>();
        for (const [k, v] of m.headers as Map<Buffer, Buffer>) headers.set(k.toString('utf8'), v);
        const end = remaining.get(partition);
        if (end !== undefined && m.offset < end) {
          out.push({ partition, offset: m.offset, value: (m.value as Buffer) ?? Buffer.alloc(0), headers });
        }
        if (end !== undefined && m.offset >= end - 1n) remaining.delete(partition);
        if (remaining.size === 0) break;
      }
    } catch (err) {
      if (!timedOut) throw err;
    } finally {
      clearTimeout(timer);
    }
    if (timedOut && remaining.size > 0)
      throw new Error(`timed out after ${timeoutMs} ms with ${out.length} record(s) read, before the end offsets`);
    await new Promise<void>((r) => stream.close(() => r()));
  } finally {
    try {
      await consumer.close(true);
    } catch {
      // closing a consumer that failed to connect: nothing to release
    }
  }
  return out;
}
