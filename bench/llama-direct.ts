// Baseline for the embedded engine: node-llama-cpp called directly (no respd code) on the same model
// file with the same thread count, rendering the same chat prompt with the model's chat wrapper and
// streaming token by token (detokenising each token, as a streaming server must). Runs as its own
// process, driven over IPC by run.ts: {op:'load'} then {op:'run'}.
import {
  getLlama, GeneralChatWrapper, LlamaLogLevel, resolveChatWrapper,
  type LlamaContext, type LlamaModel, type Token,
} from 'node-llama-cpp';

let model: LlamaModel | undefined;
let context: LlamaContext | undefined;

async function load(modelPath: string, threads: number, contextSize?: number) {
  const llama = await getLlama({ gpu: false, build: 'never', maxThreads: threads, logLevel: LlamaLogLevel.error });
  model = await llama.loadModel({ modelPath });
  context = await model.createContext({ sequences: 1, threads, contextSize: contextSize ?? Math.min(model.trainContextSize, 4096) });
  return { contextSize: context.contextSize, trainContextSize: model.trainContextSize };
}

/** One generation: output tokens, and wall time from prompt tokenisation to the first and to the last token. */
async function generate(prompt: string, maxTokens: number, temperature: number) {
  const m = model!;
  const t0 = process.hrtime.bigint();
  const wrapper = resolveChatWrapper(m) ?? new GeneralChatWrapper();
  const state = wrapper.generateContextState({ chatHistory: [{ type: 'user', text: prompt }, { type: 'model', response: [] }] });
  const tokens = state.contextText.tokenize(m.tokenizer);
  const stops = state.stopGenerationTriggers
    .filter((t) => t.values.every((v) => typeof v === 'string'))
    .map((t) => t.values.join(''))
    .filter(Boolean);
  const sequence = context!.getSequence();
  let text = '';
  const out: Token[] = [];
  let firstTokenSeconds: number | undefined;
  try {
    for await (const token of sequence.evaluate(tokens, { temperature, topP: 1, topK: 0 })) {
      if (m.isEogToken(token)) break;
      out.push(token);
      firstTokenSeconds ??= Number(process.hrtime.bigint() - t0) / 1e9;
      text += m.detokenize([token], false, out.slice(-9, -1));
      if (stops.some((s) => text.includes(s))) break;
      if (out.length >= maxTokens) break;
    }
  } finally {
    sequence.dispose();
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return { inputTokens: tokens.length, outputTokens: out.length, seconds, firstTokenSeconds };
}

process.on('message', async (msg: { id: number; op: 'load' | 'run'; modelPath?: string; threads?: number; contextSize?: number; prompt?: string; maxTokens?: number; temperature?: number; n?: number }) => {
  const reply = (m: object) => process.send!({ id: msg.id, ...m });
  try {
    if (msg.op === 'load') return reply({ result: await load(msg.modelPath!, msg.threads ?? 1, msg.contextSize) });
    const runs = [];
    for (let i = 0; i < (msg.n ?? 1); i++) runs.push(await generate(msg.prompt!, msg.maxTokens ?? 200, msg.temperature ?? 0));
    reply({ result: runs });
  } catch (err) {
    reply({ error: err instanceof Error ? err.stack ?? err.message : String(err) });
  }
});
process.on('disconnect', () => process.exit(0));
