// Storage backend `kafka` (Chains' pub/sub backend, spec §4.4, pkg/chains/storage/pubsub): one record per signature
// to `storage.pubsub.topic` on the brokers of `storage.pubsub.kafka.bootstrap.servers` (`storage.pubsub.provider:
// kafka`), as Chains' go-cloud kafkapubsub topic sends it: no key, the value = the signature bytes (DSSE envelope
// JSON, or the raw signature of an image), and two headers, `payload` = base64(payload) and `signature` = the
// signature bytes. Through @platformatic/kafka (pure JavaScript), which connects on the first send.
// Differences from Chains: there the backend is never created (it registers as `pubsub`, the config accepts only
// `kafka`), so every store fails; here it works. go-cloud refuses metadata that is not UTF-8, so even a working Chains
// backend could not send an image's raw signature; Kafka headers are bytes and it goes out unchanged. The bootstrap
// servers are split on commas (Chains passes them as one address). `inmemory` (a topic inside the controller that
// nothing can read) is refused. `kafka` is not accepted for PipelineRuns, as in Chains (config/parse.ts).
import type { ChainsConfig } from '../config/types.js';
import { ChainsmithError } from '../errors.js';
import { invalidConfig, isNetworkError, redactCredentials, storageFailed } from './backend-errors.js';
import { ClientSlot } from './client-slot.js';
import type { Storer, StoreRequest, StoreResult } from './storer.js';

/** One Kafka record as the backend sends it. */
export interface KafkaRecord {
  value: Buffer;
  headers: Record<string, Buffer>;
}

/** The part of a Kafka producer the backend uses. */
export interface KafkaSender {
  send(topic: string, record: KafkaRecord): Promise<void>;
  close(): Promise<void>;
}

/** Connects a producer to the bootstrap brokers. */
export type KafkaConnector = (brokers: string[]) => Promise<KafkaSender>;

/** The record Chains' pubsub backend sends for one signature. */
export function kafkaRecord(req: Pick<StoreRequest, 'signed'>): KafkaRecord {
  return {
    value: req.signed.signature,
    headers: {
      payload: Buffer.from(req.signed.payload.toString('base64'), 'utf8'),
      signature: req.signed.signature,
    },
  };
}

/** Where messages go, from the `storage.pubsub.*` keys; throws InvalidConfig naming what is missing. */
export function kafkaTarget(config: ChainsConfig): { topic: string; brokers: string[] } {
  const p = config.storage.pubsub;
  if (p.provider === 'inmemory')
    throw invalidConfig(
      'kafka',
      'storage.pubsub.provider inmemory keeps messages inside the controller process, where nothing can read them; ' +
        'set storage.pubsub.provider: kafka',
    );
  if (p.provider !== 'kafka')
    throw invalidConfig(
      'kafka',
      'storage.pubsub.provider is not set; set it to kafka (the only provider that leaves the process)',
    );
  const topic = p.topic?.trim();
  if (!topic) throw invalidConfig('kafka', 'storage.pubsub.topic is not set; name the topic to send signatures to');
  const brokers = (p.kafkaBootstrapServers ?? '')
    .split(',')
    .map((b) => b.trim())
    .filter(Boolean);
  if (brokers.length === 0)
    throw invalidConfig(
      'kafka',
      'storage.pubsub.kafka.bootstrap.servers is not set; give host:port of one or more brokers',
    );
  return { topic, brokers };
}

/** The `kafka` backend. */
export class KafkaStorer implements Storer {
  readonly name = 'kafka';
  readonly settings: string;
  private readonly target: { topic: string; brokers: string[] } | ChainsmithError;
  private readonly slot: ClientSlot<KafkaSender> | undefined;

  constructor(config: ChainsConfig, connect: KafkaConnector = connectPlatformatic) {
    this.settings = kafkaSettings(config);
    try {
      const target = kafkaTarget(config);
      this.target = target;
      this.slot = new ClientSlot<KafkaSender>(
        'kafka',
        () => connect(target.brokers),
        (s) => s.close(),
      );
    } catch (err) {
      this.target = err as ChainsmithError;
    }
  }

  async store(req: StoreRequest): Promise<StoreResult> {
    const target = this.target;
    if (target instanceof ChainsmithError || !this.slot) throw target;
    const where = `sending ${req.shortKey} to topic ${target.topic} on ${redactCredentials(target.brokers.join(','))}`;
    try {
      await this.slot.use((producer) => producer.send(target.topic, kafkaRecord(req)));
    } catch (err) {
      if (err instanceof ChainsmithError) throw err;
      const transient = isTransientKafkaError(err);
      if (transient) this.slot.reset(); // a fresh producer reconnects and reloads the metadata
      throw storageFailed('kafka', where, err, transient);
    }
    return {};
  }

  async close(): Promise<void> {
    await this.slot?.close();
  }
}

/** The keys the `kafka` backend is built from. */
export function kafkaSettings(config: ChainsConfig): string {
  const p = config.storage.pubsub;
  return JSON.stringify([p.provider ?? '', p.topic ?? '', p.kafkaBootstrapServers ?? '']);
}

/** True for Kafka failures worth retrying: unreachable or unavailable brokers, leader elections, timeouts. */
export function isTransientKafkaError(err: unknown): boolean {
  if (isNetworkError(err)) return true;
  const e = err as { code?: unknown; canRetry?: unknown; errors?: unknown };
  if (e.canRetry === true || e.code === 'PLT_KFK_NETWORK' || e.code === 'PLT_KFK_TIMEOUT') return true;
  // several brokers or partitions failed: worth retrying when one of them is
  return Array.isArray(e.errors) && e.errors.some((x) => isTransientKafkaError(x));
}

/** A producer from @platformatic/kafka, loaded on first use so an unused backend costs no memory. */
async function connectPlatformatic(brokers: string[]): Promise<KafkaSender> {
  const { Producer } = await import('@platformatic/kafka');
  const producer = new Producer({
    clientId: 'chainsmith',
    bootstrapBrokers: brokers,
    // as Chains' sarama producer: topics are created on first use when the broker allows it, one ack (the leader)
    autocreateTopics: true,
    acks: 1,
    // few retries: the controller retries the run within its horizon
    retries: 2,
    retryDelay: 300,
    timeout: 10_000,
  });
  return {
    async send(topic, record) {
      // without serializers the client takes Buffers only, header names included
      const headers = new Map(Object.entries(record.headers).map(([k, v]) => [Buffer.from(k, 'utf8'), v] as const));
      await producer.send({ messages: [{ topic, value: record.value, headers }] });
    },
    close: () => producer.close(),
  };
}
