// Hosted tool types, as one rule for all of them (issue 17's rule, so that clients such as Codex, which
// send them on every request, keep working).
/**
 * Hosted tools this server does not run yet. They are accepted and echoed, never offered to the model
 * (a client such as Codex sends them on every request), and forcing one with tool_choice is a 400.
 * web_search, code_interpreter and image_generation follow the same rule when their backend (a search engine,
 * the Python sandbox, an images endpoint) is not configured (tools/prepare.ts).
 */
export const HOSTED_TOOL_TYPES = new Set(['tool_search']);
