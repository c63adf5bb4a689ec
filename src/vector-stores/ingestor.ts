// Background ingestion of vector store files: claim a file under a lease (any instance: the queue is
// the vector_store_files table, so it survives restarts and is shared in scale-out), read its bytes,
// extract its text, chunk it, and complete it, or fail that file alone with the reason. An idle worker
// polls the table every second and is woken at once when this instance attaches files.
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { FileStore } from '../store/files.js';
import type { ChunkInput, IngestionJob, VectorStoreStore } from '../store/vector-stores.js';
import { isStorageUnavailable } from '../store/errors.js';
import { chunkText } from './chunking.js';
import type { Embedder } from './embedder.js';
import { ApiError } from '../wire/errors.js';
import { ExtractError, extractText } from './extract.js';

export interface IngestorOptions {
  workers: number;
  pollMs?: number;
  /** A claim older than this is taken over by another worker (its worker is presumed dead). */
  leaseMs?: number;
  /** A file claimed this many times without an outcome (it killed its workers) is failed. */
  maxAttempts?: number;
  /** EMBEDDING_MODEL: chunks of stores that record this model are embedded. */
  embedder?: Embedder;
}

export class Ingestor {
  private readonly worker = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  private running = false;
  private loops: Promise<void>[] = [];
  private wakers = new Set<() => void>();

  constructor(
    private readonly store: VectorStoreStore,
    private readonly files: FileStore,
    private readonly log: Logger,
    private readonly opts: IngestorOptions,
  ) {}

  async start(): Promise<void> {
    if (this.opts.workers < 1) return;
    this.running = true;
    await this.store.releaseClaims?.();
    for (let i = 0; i < this.opts.workers; i++) this.loops.push(this.loop());
  }

  /** New work was queued here: wake the idle workers now rather than at their next poll. */
  kick(): void {
    for (const w of this.wakers) w();
  }

  async close(): Promise<void> {
    this.running = false;
    this.kick();
    await Promise.all(this.loops);
  }

  private idle(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(t);
        this.wakers.delete(done);
        resolve();
      };
      const t = setTimeout(done, ms);
      this.wakers.add(done);
    });
  }

  private async loop(): Promise<void> {
    const pollMs = this.opts.pollMs ?? 1000;
    while (this.running) {
      let job: IngestionJob | undefined;
      try {
        job = await this.store.claimIngestion(this.worker, this.opts.leaseMs ?? 120_000);
      } catch (err) {
        this.log.warn({ err }, 'vector store ingestion: claim failed');
      }
      if (!job) {
        await this.idle(pollMs);
        continue;
      }
      await this.process(job);
    }
  }

  private async process(job: IngestionJob): Promise<void> {
    const fail = (code: string, message: string) => this.store.failIngestion(job, this.worker, { code, message });
    try {
      if (job.attempts > (this.opts.maxAttempts ?? 3)) {
        await fail('server_error', 'The file could not be processed (its processing was interrupted repeatedly).');
        return;
      }
      const rec = await this.files.getFile(job.fileId);
      const data = rec && (await this.files.readFileContent(job.fileId));
      if (!rec || !data) {
        await fail('invalid_file', 'The file was deleted before it could be processed.');
        return;
      }
      const text = await extractText(rec.filename, rec.mimeType, data);
      const texts = chunkText(text, job.chunking);
      let chunks: ChunkInput[] = texts.map((t) => ({ text: t }));
      if (job.embeddingModel) {
        // The store keeps the model it was created with; another one now would mix incomparable vectors.
        const embedder = this.opts.embedder;
        if (!embedder || embedder.model !== job.embeddingModel) {
          await fail('server_error', `The store's embedding model '${job.embeddingModel}' is not the server's (${embedder?.model ?? 'none'}).`);
          return;
        }
        const vectors = await embedder.embed(texts);
        chunks = texts.map((t, i) => ({ text: t, vector: vectors[i] }));
      }
      await this.store.completeIngestion(job, this.worker, text, chunks);
    } catch (err) {
      if (err instanceof ExtractError) {
        await fail(err.code, err.message).catch((e) => this.log.warn({ err: e }, 'vector store ingestion: could not record a failure'));
      } else if (err instanceof ApiError) {
        // The embedding model refused or failed: this file fails with its reason, the store goes on.
        await fail('server_error', err.message).catch(() => {});
      } else if (isStorageUnavailable(err)) {
        // Left claimed: the lease runs out and the file is tried again.
        this.log.warn({ err, file: job.fileId }, 'vector store ingestion: store unavailable');
      } else {
        this.log.error({ err, file: job.fileId }, 'vector store ingestion failed');
        await fail('server_error', 'The file could not be processed.').catch(() => {});
      }
    }
  }
}
