// Steering (OpenAI's beta `response.steer`, ResponseSteerEvent in the `openai` package's types): user input
// queued for a running response, which then ends `incomplete` (reason `steered`) and is continued by a
// successor response (previous_response_id = the steered one) whose input is the queued input. This
// file holds what both transports share: the input's rules, the failure codes and the event shapes.
import { ApiError, type ErrorCode } from './errors.js';

/** What `response.steer` accepts as input: a string, or user messages with text, image and file parts only. */
export type SteerInput = string | Array<Record<string, unknown>>;

/** Steering inputs that may wait for one response at once (ResponseSteerErrorCode `too_many_pending_steers`). */
export const MAX_PENDING_STEERS = 16;
/** Longest steering text (the sum of a submission's text parts), as POST /wake's input. */
export const MAX_STEER_TEXT = 20_000;

const PARTS = new Set(['input_text', 'input_image', 'input_file']);
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export const steerError = (code: ErrorCode, message: string, param: string | null = null) => new ApiError(code, message, param);

function bad(param: string, message: string): never {
  throw steerError('invalid_input', message, param);
}

/**
 * Checks a steering input against OpenAI's rules (ResponseSteerInput): a non-empty string, or a
 * non-empty array of messages with role `user`, only `type` (`message`), `role` and `content`, content a
 * string or `input_text` / `input_image` / `input_file` parts. The parts themselves are checked later by
 * the successor's create, as any input. Throws `invalid_input` (400) naming the offending param.
 */
export function checkSteerInput(input: unknown, param = 'input'): SteerInput {
  if (typeof input === 'string') {
    if (!input.length) bad(param, `'${param}' must not be empty.`);
    if (input.length > MAX_STEER_TEXT) bad(param, `'${param}' is longer than ${MAX_STEER_TEXT} characters.`);
    return input;
  }
  if (!Array.isArray(input)) bad(param, `'${param}' must be a string or an array of user messages.`);
  if (!input.length) bad(param, `'${param}' must not be an empty array.`);
  let chars = 0;
  input.forEach((m, i) => {
    const at = `${param}[${i}]`;
    if (!isObj(m)) bad(at, `'${at}' must be a message object.`);
    for (const k of Object.keys(m)) {
      if (k !== 'type' && k !== 'role' && k !== 'content') bad(`${at}.${k}`, `Steering messages take only type, role and content; '${at}.${k}' is not supported.`);
    }
    if (m.type !== undefined && m.type !== 'message') bad(`${at}.type`, `Steering accepts only messages; '${at}.type' must be 'message'.`);
    if (m.role !== 'user') bad(`${at}.role`, `Steering accepts only messages with the 'user' role.`);
    if (typeof m.content === 'string') {
      chars += m.content.length;
      return;
    }
    if (!Array.isArray(m.content) || !m.content.length) bad(`${at}.content`, `'${at}.content' must be a string or a non-empty array of input_text, input_image and input_file parts.`);
    m.content.forEach((p, j) => {
      if (!isObj(p) || !PARTS.has(p.type as string)) bad(`${at}.content[${j}].type`, `Steering content parts must be input_text, input_image or input_file.`);
      if (p.type === 'input_text') chars += typeof p.text === 'string' ? p.text.length : 0;
    });
  });
  if (chars > MAX_STEER_TEXT) bad(param, `The steering text is longer than ${MAX_STEER_TEXT} characters.`);
  return input as SteerInput;
}

/** Inputs queued in submission order, as the input of one successor request (strings become user messages). */
export function joinSteerInputs(inputs: SteerInput[]): Array<Record<string, unknown>> {
  return inputs.flatMap((i) => (typeof i === 'string' ? [{ type: 'message', role: 'user', content: i }] : i));
}

/** Client tool calls (other than function calls) → the item type that answers them. */
const CALL_OUTPUT: Record<string, string> = {
  custom_tool_call: 'custom_tool_call_output', computer_call: 'computer_call_output', shell_call: 'shell_call_output',
  local_shell_call: 'local_shell_call_output', apply_patch_call: 'apply_patch_call_output',
};

/** A client-owned item a finished response waits for (ResponseSteerRequiredInput): the input stubs of `response.steer.pending`. */
export function requiredInputs(output: Array<Record<string, any>>): Array<Record<string, unknown>> {
  const answered = new Set(output.filter((o) => o.type === 'mcp_approval_response').map((o) => o.approval_request_id));
  const stubs: Array<Record<string, unknown>> = [];
  for (const o of output) {
    if (o.type === 'function_call') stubs.push({ type: 'function_call_output', call_id: o.call_id, name: o.name });
    else if (CALL_OUTPUT[o.type]) stubs.push({ type: CALL_OUTPUT[o.type], call_id: o.call_id });
    else if (o.type === 'mcp_approval_request' && !answered.has(o.id)) stubs.push({ type: 'mcp_approval_response', approval_request_id: o.id });
  }
  return stubs;
}
