// Persistence of guardrail settings (MKA1 `/guardrails`): one row per tenant (API key), the settings as
// the JSON the API validated. Read rarely: guardrails/service.ts caches them per tenant in process.

export interface GuardrailRow {
  /** JSON of the validated guardrail list (see guardrails/settings.ts). */
  settings: string;
  /** Unix seconds of the last PUT. */
  updatedAt: number;
}

export interface GuardrailStore {
  getGuardrails(tenant: string): Promise<GuardrailRow | undefined>;
  /** Replaces the tenant's settings (PUT semantics). */
  putGuardrails(tenant: string, row: GuardrailRow): Promise<void>;
}
