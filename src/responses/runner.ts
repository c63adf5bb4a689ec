// The runner: drives one response from in_progress to a terminal event through the provider's
// streaming interface. It knows nothing about HTTP, storage or which backend it talks to.
//
// A response is a loop of model turns. A turn that ends in text ends the response. A turn with tool
// calls is checked first (unknown tools and strict-schema violations never reach the client: the turn
// is retried once, then the response fails); then client function calls are emitted and end the
// response (the client answers with function_call_output), while built-in calls (MCP, sleep) run here
// and the model is called again with their results, until `max_tool_calls` built-in calls have run;
// after that the model is called without tools and must answer.
import type { ChatMessage, FunctionToolDef, GenerateEvent, GenerateRequest, Provider, ReasoningEffort, ToolCall, ToolChoice } from '../providers/types.js';
import type { WebSearchBackend } from '../tools/web-search/backend.js';
import type { ImagesBackend } from '../tools/image-generation/backend.js';
import type { UrlCitable } from '../tools/web-search/tool.js';
import type { CodeInterpreterBackend, ContainerCitable } from '../tools/code-interpreter/tool.js';
import type { Owner } from '../store/types.js';
import { metrics } from '../metrics/metrics.js';
import { ProviderError } from '../providers/types.js';
import type { ChainToolState } from '../tools/chain.js';
import { credentialVault } from '../tools/mcp/credentials.js';
import { McpSetupError } from '../tools/mcp/runtime.js';
import { ToolSession } from '../tools/session.js';
import type { FileSearchBackend } from '../tools/file-search/backend.js';
import type { Citable } from '../tools/file-search/tool.js';
import type { SleepRegistry } from '../tools/sleep/registry.js';
import type { LiveLog } from './live-log.js';
import { TurnOutput, type SealReasoning } from './turn-output.js';
import type { Resume } from './continuation.js';
import { isErrorCode } from '../wire/errors.js';
import { TERMINAL_EVENT, type TerminalStatus } from '../wire/status.js';
import { emptyUsage, type ErrorObject, type ResponseObject } from '../wire/types.js';
import { addUsage } from './usage.js';
import type { CancelSignal } from '../util/cancel.js';

/**
 * The model settings the client actually sent. The echoed Response fills in defaults (temperature 1…);
 * the upstream must get only what was sent, so its own defaults apply otherwise. Plain JSON: a
 * background job stores it.
 */
export interface Sampling {
  temperature?: number;
  top_p?: number;
  presence_penalty?: number;
  frequency_penalty?: number;
  parallel_tool_calls?: boolean;
  reasoning_effort?: ReasoningEffort;
}

export interface RunInput {
  log: LiveLog;
  provider: Provider;
  /** Provider-local model name. */
  model: string;
  messages: ChatMessage[];
  include: string[];
  /** Absent in a job queued before it was stored: see echoedSampling. */
  sampling?: Sampling;
  signal: CancelSignal;
  /** Tool state of the chain, computed at create (see tools/chain.ts). */
  tools?: ChainToolState;
  credentialLabels?: string[];
  sleepers: SleepRegistry;
  fileSearch?: FileSearchBackend;
  webSearch?: WebSearchBackend;
  codeInterpreter?: CodeInterpreterBackend;
  /** Who the response belongs to (the owner of code_interpreter containers). */
  toolOwner?: Owner;
  images?: ImagesBackend;
  /** Set when the client asked for `reasoning.encrypted_content`. */
  sealReasoning?: SealReasoning;
  /** A run taken over from a dead instance: go on from its committed output (see continuation.ts). */
  resume?: Resume;
}

/**
 * Why a run was aborted: a user cancel, a client that left a foreground stream, shutdown, the job
 * queue being unreachable for longer than the job's lease (stopped so it cannot run twice), a store
 * that took none of its events within the commit timeout, or steering input queued for it (the
 * response ends `incomplete`, reason `steered`, and a successor takes the input: see wire/steer.ts), or
 * a drain past DRAIN_MS of a run another instance can continue (`handover`: the run stops where it is,
 * nothing is closed or ended, and the instance that takes it over continues it, see continuation.ts).
 */
export type AbortReason = 'cancelled' | 'client_disconnected' | 'shutdown' | 'lease_lost' | 'store_unavailable' | 'steered' | 'handover';

const FAILED_BY: Partial<Record<AbortReason, ErrorObject>> = {
  shutdown: { code: 'server_shutdown', message: 'The server shut down while this response was running.' },
  store_unavailable: {
    code: 'store_unavailable',
    message: 'The response store did not take this response\'s events within COMMIT_TIMEOUT_MS (full, locked or unreachable), so it was stopped rather than go on unstored.',
  },
  lease_lost: {
    code: 'queue_unavailable',
    message: 'The job queue could not be reached to renew this response\'s lease, so it was stopped rather than risk running twice.',
  },
};

type Outcome = 'completed' | 'length' | 'context_length' | 'content_filter' | 'aborted' | { error: ErrorObject };
// Why a response is incomplete: max_output_tokens only when that limit was the cause.
const INCOMPLETE_REASON = { length: 'max_output_tokens', context_length: 'context_length_exceeded', content_filter: 'content_filter' } as const;

const now = () => Math.floor(Date.now() / 1000);

function responseFormat(r: ResponseObject): GenerateRequest['responseFormat'] {
  const f = r.text.format as any;
  if (f.type === 'json_schema') return { type: 'json_schema', name: f.name, schema: f.schema, strict: f.strict };
  if (f.type === 'json_object') return { type: 'json_object' };
  return undefined;
}

/** A job stored without `sampling`: what differs from the echoed defaults must have been sent. */
function echoedSampling(r: ResponseObject): Sampling {
  const s: Sampling = {};
  if (r.temperature !== 1) s.temperature = r.temperature;
  if (r.top_p !== 1) s.top_p = r.top_p;
  if (r.presence_penalty) s.presence_penalty = r.presence_penalty;
  if (r.frequency_penalty) s.frequency_penalty = r.frequency_penalty;
  if (!r.parallel_tool_calls) s.parallel_tool_calls = false;
  if (r.reasoning.effort) s.reasoning_effort = r.reasoning.effort as ReasoningEffort;
  return s;
}

/** Ends the response with the terminal event of `patch.status`. */
export function finalize(log: LiveLog, patch: Partial<ResponseObject> & { status: TerminalStatus }): void {
  log.append({ type: TERMINAL_EVENT[patch.status], response: { ...log.state, completed_at: now(), ...patch } });
}

class Run {
  readonly r: ResponseObject;
  readonly usage = emptyUsage();
  readonly withLogprobs: boolean;
  readonly sampling: Sampling;
  readonly reasoningInput: boolean;
  /** The turn being generated, so a failure can close its open message. */
  current: TurnOutput | undefined;
  builtinCalls = 0;
  /** Files that file_search returned in this response: messages after it cite them. */
  readonly citable: Citable[] = [];
  /** Pages that web_search returned or opened in this response: messages after it cite them. */
  readonly urls: UrlCitable[] = [];
  /** Files that code_interpreter runs wrote in this response: messages after them cite them. */
  readonly containerFiles: ContainerCitable[] = [];

  constructor(readonly input: RunInput, readonly tools: ToolSession) {
    this.r = input.log.state;
    this.withLogprobs = input.include.includes('message.output_text.logprobs');
    this.sampling = input.sampling ?? echoedSampling(this.r);
    this.reasoningInput = input.provider.capabilities(input.model).reasoningInput ?? false;
  }

  private request(messages: ChatMessage[], tools: FunctionToolDef[], choice: ToolChoice | undefined): GenerateRequest {
    const { r, input, sampling: s } = this;
    return {
      model: input.model,
      messages,
      tools: tools.length ? tools : undefined,
      toolChoice: tools.length ? choice : undefined,
      parallelToolCalls: tools.length ? s.parallel_tool_calls : undefined,
      temperature: s.temperature,
      topP: s.top_p,
      presencePenalty: s.presence_penalty,
      frequencyPenalty: s.frequency_penalty,
      reasoningEffort: s.reasoning_effort,
      maxOutputTokens: r.max_output_tokens ?? undefined,
      responseFormat: responseFormat(r),
      logprobs: this.withLogprobs || undefined,
      topLogprobs: this.withLogprobs ? r.top_logprobs : undefined,
      user: r.safety_identifier ?? r.user ?? undefined,
      signal: input.signal,
    };
  }

  /** Runs one model turn into `out`; returns the finish reason. */
  private async turn(req: GenerateRequest, out: TurnOutput): Promise<string | undefined> {
    const { provider, signal, log } = this.input;
    let finish: string | undefined;
    // A blocking response: nobody follows its deltas live, so the turn may come in one piece.
    if (log.mode.blocking && provider.complete) {
      for (const ev of await provider.complete(req)) {
        if (signal.aborted) break;
        if (ev.type === 'finish') finish = ev.reason;
        else this.take(ev, out);
      }
      return finish;
    }
    const batches = provider.generateBatches?.(req);
    if (batches) {
      turn: for await (const evs of batches) {
        for (const ev of evs) {
          if (signal.aborted) break turn;
          if (ev.type === 'finish') finish = ev.reason;
          else this.take(ev, out);
        }
      }
      return finish;
    }
    for await (const ev of provider.generate(req)) {
      if (signal.aborted) break;
      if (ev.type === 'finish') finish = ev.reason;
      else this.take(ev, out);
    }
    return finish;
  }

  private take(ev: GenerateEvent, out: TurnOutput): void {
    switch (ev.type) {
      case 'text': out.text(ev.delta, ev.logprobs); break;
      case 'reasoning': out.reasoning(ev.delta); break;
      case 'reasoning_summary': out.reasoningSummary(ev.delta); break;
      case 'tool_call_start':
        // parallel_tool_calls false: at most one call per turn, whatever the backend does.
        if (!this.r.parallel_tool_calls && out.callCount >= 1) break;
        out.toolStart(ev.index, ev.id, ev.name);
        break;
      case 'tool_call_delta': out.toolDelta(ev.index, ev.delta); break;
      case 'usage': addUsage(this.usage, ev.usage); break;
    }
  }

  async loop(): Promise<Outcome> {
    const { r, tools, input } = this;
    const { signal } = input;
    const messages = [...input.messages];
    if (tools.hasApprovals) this.builtinCalls += await tools.runApprovals(messages);
    let retried = false;
    // A continued message: its committed text is the assistant prefix the model goes on from (first turn only).
    let resumed = input.resume?.message;
    for (;;) {
      if (signal.aborted) return 'aborted';
      // Budget spent by built-in calls: no tools at all, the model must answer now.
      const exhausted = this.builtinCalls > 0 && this.builtinCalls >= r.max_tool_calls;
      const offered = exhausted ? [] : tools.offered(this.builtinCalls < r.max_tool_calls);
      // A forced tool_choice holds until a built-in call has run (a retried turn is still forced).
      const { defs, choice } = tools.choice(offered, this.builtinCalls === 0);
      const out = (this.current = new TurnOutput(input.log, this.withLogprobs, input.sealReasoning));
      out.citable = this.citable;
      out.urls = this.urls;
      out.containerFiles = this.containerFiles;
      const req = this.request(messages, defs, choice);
      if (resumed) {
        out.resumeMessage(resumed.outputIndex, resumed.id, resumed.text);
        // Only this request ends with the prefix: the turn's whole text joins `messages` below as any turn's.
        req.messages = [...messages, { role: 'assistant', content: resumed.text }];
        req.continueFinal = true;
        resumed = undefined;
      }
      const finish = await this.turn(req, out);
      if (signal.aborted) return 'aborted';
      if (finish === 'length' || finish === 'context_length' || finish === 'content_filter') return finish;
      const calls = out.calls;
      const bad = calls.map((c) => tools.violation(c, defs)).find((v) => v !== null);
      const text = out.closeText('completed');
      this.current = undefined;
      if (bad) {
        if (retried) return { error: { code: 'invalid_tool_call', message: `The model produced an invalid tool call twice; ${bad}.` } };
        retried = true;
        // The retry sees exactly what the client saw: the text of this turn, not the rejected call.
        if (text) messages.push({ role: 'assistant', content: text });
        continue;
      }
      if (!calls.length) return 'completed';

      const ran: ToolCall[] = [];
      const results: ChatMessage[] = [];
      let endsResponse = false;
      for (const call of calls) {
        const kind = tools.classify(call.name, defs)!;
        if (kind.kind === 'function') {
          metrics.toolCall(kind.client.kind, 'client');
          out.emitClientCall(call, kind.client);
          endsResponse = true;
          continue;
        }
        if (this.builtinCalls >= r.max_tool_calls) continue; // over budget: ignored, as OpenAI documents
        this.builtinCalls++;
        const res = await tools.runBuiltin(kind, call);
        metrics.toolCall(kind.kind, res.approvalRequested ? 'approval_requested' : res.failed ? 'failed' : 'completed');
        if (signal.aborted) return 'aborted';
        if (res.approvalRequested) {
          endsResponse = true; // the client answers with mcp_approval_response in its next request
          continue;
        }
        for (const c of res.citable ?? []) if (!this.citable.some((x) => x.file_id === c.file_id)) this.citable.push(c);
        for (const u of res.urls ?? []) if (!this.urls.some((x) => x.url === u.url)) this.urls.push(u);
        for (const f of res.containerFiles ?? []) {
          const at = this.containerFiles.findIndex((x) => x.container_id === f.container_id && x.filename === f.filename);
          if (at >= 0) this.containerFiles[at] = f; // rewritten: the newest version is the one to cite
          else this.containerFiles.push(f);
        }
        ran.push({ id: call.callId, name: call.name, arguments: call.arguments });
        results.push({ role: 'tool', toolCallId: call.callId, content: res.resultText });
      }
      if (endsResponse) return 'completed';
      // The model's reasoning goes back with its calls where it takes it (gpt-oss needs it across calls).
      const reasoning = this.reasoningInput && out.reasoningText ? { reasoning: out.reasoningText } : {};
      if (ran.length) messages.push({ role: 'assistant', content: text || null, toolCalls: ran, ...reasoning }, ...results);
      else if (text) messages.push({ role: 'assistant', content: text, ...reasoning });
    }
  }
}

function errorOf(err: unknown): ErrorObject {
  if (err instanceof ProviderError || err instanceof McpSetupError) return { code: isErrorCode(err.code) ? err.code : 'upstream_error', message: err.message };
  return { code: 'server_error', message: `The model run failed: ${(err as Error).message}` };
}

/**
 * A warm-up (WebSocket mode's `generate: false`): create() has checked the request and prepared its
 * context (tools, instructions, chain, input) as for a run; the response completes with no output and
 * no model call, and the next turn builds on it by `previous_response_id`.
 */
export function warmUp(log: LiveLog): Promise<void> {
  // It ends on a later turn of the event loop, as a run does: the caller attaches its reader first (a
  // store:false log leaves the hub as soon as it is terminal).
  return new Promise((resolve) => setImmediate(() => {
    credentialVault.delete(log.id);
    log.append({ type: 'response.in_progress', response: { ...log.state, status: 'in_progress' } });
    finalize(log, { status: 'completed', usage: emptyUsage() });
    resolve();
  }));
}

export async function runResponse(input: RunInput): Promise<void> {
  const { log, signal } = input;
  // A continued run is in progress already: its stream goes on where the committed events end.
  if (!input.resume) log.append({ type: 'response.in_progress', response: { ...log.state, status: 'in_progress' } });
  let run: Run | undefined;
  let outcome: Outcome;
  let tools: ToolSession | undefined;
  try {
    tools = await ToolSession.open({
      log, response: log.state, chain: input.tools, credentialLabels: input.credentialLabels, sleepers: input.sleepers, signal,
      fileSearch: input.fileSearch, webSearch: input.webSearch, codeInterpreter: input.codeInterpreter, owner: input.toolOwner, images: input.images,
    });
    run = new Run(input, tools);
    outcome = await run.loop();
  } catch (err) {
    outcome = signal.aborted ? 'aborted' : { error: errorOf(err) };
    if (err instanceof ProviderError && !signal.aborted) metrics.upstreamError(input.provider.id, err.code);
  } finally {
    credentialVault.delete(log.id);
    const closing = tools?.close();
    if (closing) await closing;
  }
  // Left open for another instance to continue: no item is closed, no terminal event written.
  if (outcome === 'aborted' && signal.reason === 'handover') return;
  const usage = run?.usage ?? emptyUsage();
  run?.current?.closeText(outcome === 'completed' ? 'completed' : 'incomplete');

  if (outcome === 'aborted' && signal.reason === 'steered') {
    // Stopped at the event boundary the steer arrived at: what was generated stays, an item cut off
    // ends incomplete (closed above), tool calls of the unfinished turn are dropped.
    finalize(log, { status: 'incomplete', incomplete_details: { reason: 'steered' }, usage });
    return;
  }
  if (outcome === 'aborted') {
    const failed = FAILED_BY[signal.reason as AbortReason];
    if (failed) finalize(log, { status: 'failed', error: failed, usage });
    else finalize(log, { status: 'cancelled', usage });
    return;
  }
  if (outcome === 'length' || outcome === 'context_length' || outcome === 'content_filter') {
    finalize(log, { status: 'incomplete', incomplete_details: { reason: INCOMPLETE_REASON[outcome] }, usage });
    return;
  }
  if (typeof outcome === 'object') {
    finalize(log, { status: 'failed', error: outcome.error, usage });
    return;
  }
  finalize(log, { status: 'completed', usage });
}
