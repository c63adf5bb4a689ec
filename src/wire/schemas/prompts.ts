// Schemas of the guardrails and prompts endpoints (MKA1). Bodies are checked by guardrails/settings.ts and
// prompts/service.ts, which name the exact field in their 400s; these describe them for the OpenAPI document.
import { Type } from '@sinclair/typebox';
import { AnyObject, ListQuery } from './common.js';

export const PromptIdParams = Type.Object({ id: Type.String({ maxLength: 256 }) });
export const VersionParams = Type.Object({ id: Type.String({ maxLength: 256 }), version: Type.String({ maxLength: 32 }) });
export const GetPromptQuery = Type.Object({
  version: Type.Optional(Type.String({ maxLength: 32 })),
  variables: Type.Optional(Type.String({ maxLength: 100_000 })),
}, { additionalProperties: false });
export const ListPromptsQuery = Type.Object({ ...ListQuery }, { additionalProperties: false });
export const JsonBody = { ...AnyObject, description: 'A JSON object (see the MKA1 reference for its fields).' };
