// Model routing: `provider:model` ids, bare names through the default provider, and the `auto` alias.
import { errors } from '../wire/errors.js';
import type { Provider } from './types.js';

export interface ResolvedModel {
  provider: Provider;
  /** Provider-local model name. */
  model: string;
  /** Canonical `provider:model`. */
  id: string;
}

export interface ModelObject {
  id: string;
  object: 'model';
  created: number;
  owned_by: string;
  model_type: 'llm';
}

export class ProviderRouter {
  constructor(
    readonly providers: Map<string, Provider>,
    private readonly defaultProvider: string | undefined,
    private readonly autoModel: string | undefined,
  ) {}

  async resolve(requested: string): Promise<ResolvedModel> {
    const target = requested === 'auto' ? this.autoModel : requested;
    if (!target) throw errors.invalid(`Model 'auto' is not configured: set AUTO_MODEL or add a model.`, 'model', 'model_not_found');
    const sep = target.indexOf(':');
    let providerId = this.defaultProvider;
    let model = target;
    if (sep > 0 && this.providers.has(target.slice(0, sep))) {
      providerId = target.slice(0, sep);
      model = target.slice(sep + 1);
    }
    const provider = providerId ? this.providers.get(providerId) : undefined;
    if (!provider) throw errors.invalid(`The model '${requested}' does not exist.`, 'model', 'model_not_found');
    let known: boolean;
    try {
      known = (await provider.listModels()).some((m) => m.id === model);
    } catch {
      // An upstream that cannot list its models still gets the request; it will answer for itself.
      known = true;
    }
    if (!known) throw errors.invalid(`The model '${requested}' does not exist.`, 'model', 'model_not_found');
    return { provider, model, id: `${provider.id}:${model}` };
  }

  async listModels(): Promise<ModelObject[]> {
    const out: ModelObject[] = [];
    if (this.autoModel) out.push({ id: 'auto', object: 'model', created: 0, owned_by: 'respd', model_type: 'llm' });
    for (const p of this.providers.values()) {
      let models: Awaited<ReturnType<Provider['listModels']>> = [];
      try {
        models = await p.listModels();
      } catch {
        continue; // an unreachable upstream lists nothing rather than failing the whole list
      }
      for (const m of models) {
        out.push({ id: `${p.id}:${m.id}`, object: 'model', created: m.created, owned_by: m.ownedBy, model_type: 'llm' });
      }
    }
    return out;
  }

  async close(): Promise<void> {
    await Promise.all([...this.providers.values()].map((p) => p.close().catch(() => {})));
  }
}
