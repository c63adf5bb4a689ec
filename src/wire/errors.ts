// The one error catalogue. Every failure the API reports — an HTTP error body, an `error` stream event or
// a failed Response's `error` — names a code from CODES, which fixes its HTTP status and OpenAI error
// type, so a code means the same thing wherever a client meets it.

export type ErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'not_found_error'
  | 'rate_limit_error'
  | 'server_error'
  | 'service_unavailable';

const bad = { status: 400, type: 'invalid_request_error' } as const;
const server = { status: 500, type: 'server_error' } as const;
const upstream = { status: 502, type: 'server_error' } as const;
const unavailable = { status: 503, type: 'service_unavailable' } as const;

/** Code → HTTP status and type. Codes a failed Response carries use the status their cause would have. */
export const CODES = {
  // The request itself.
  invalid_value: bad,
  embedding_model_mismatch: bad,
  missing_required_parameter: bad,
  unknown_parameter: bad,
  invalid_json: bad,
  invalid_path: bad,
  invalid_url: bad,
  invalid_header: bad,
  invalid_request: bad,
  unsupported_media_type: { status: 415, type: 'invalid_request_error' },
  request_too_large: { status: 413, type: 'invalid_request_error' },
  unsupported_input: bad,
  unsupported_tool: bad,
  invalid_json_schema: bad,
  unsupported_json_schema: bad,
  sleep_requires_background: bad,
  mcp_server_url_refused: bad,
  mcp_credentials_unavailable: bad,
  previous_response_not_found: bad,
  duplicate_item_id: bad,
  unsupported_file: bad,
  vector_store_expired: bad,
  container_expired: bad,
  not_background: bad,
  response_not_cancellable: bad,
  model_not_found: bad,
  context_length_exceeded: bad,
  invalid_encrypted_content: bad,
  websocket_connection_limit_reached: bad,
  // Steering (OpenAI's beta `response.steer`; the codes of ResponseSteerErrorCode).
  invalid_input: bad,
  steering_not_supported: bad,
  // Who is asking, and what exists.
  invalid_api_key: { status: 401, type: 'authentication_error' },
  not_found: { status: 404, type: 'not_found_error' },
  unknown_route: { status: 404, type: 'invalid_request_error' },
  method_not_allowed: { status: 405, type: 'invalid_request_error' },
  conflict: { status: 409, type: 'invalid_request_error' },
  response_not_sleeping: { status: 409, type: 'invalid_request_error' },
  response_not_found: { status: 404, type: 'invalid_request_error' },
  response_already_completed: { status: 409, type: 'invalid_request_error' },
  response_not_active: { status: 409, type: 'invalid_request_error' },
  too_many_pending_steers: { status: 429, type: 'rate_limit_error' },
  successor_creation_failed: { status: 409, type: 'invalid_request_error' },
  rate_limit_exceeded: { status: 429, type: 'rate_limit_error' },
  websocket_lane_limit_reached: { status: 429, type: 'rate_limit_error' },
  not_implemented: { status: 501, type: 'invalid_request_error' },
  // The server and what it depends on.
  server_error: server,
  service_unavailable: unavailable,
  store_unavailable: unavailable,
  queue_unavailable: unavailable,
  provider_closed: unavailable,
  upstream_error: upstream,
  upstream_bad_response: upstream,
  upstream_timeout: { status: 504, type: 'server_error' },
  // Only on a failed Response (the run's outcome, reported in `response.failed`).
  server_restarted: server,
  server_shutdown: server,
  invalid_tool_call: server,
  mcp_server_error: upstream,
} as const satisfies Record<string, { status: number; type: ErrorType }>;

export type ErrorCode = keyof typeof CODES;

export const isErrorCode = (code: string): code is ErrorCode => Object.hasOwn(CODES, code);

export class ApiError extends Error {
  readonly status: number;
  readonly type: ErrorType;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly param: string | null = null,
    readonly headers: Record<string, string> = {},
    /** Overrides the catalogue's status (an upstream's 4xx passed through, say). */
    status?: number,
  ) {
    super(message);
    this.name = 'ApiError';
    this.status = status ?? CODES[code].status;
    this.type = CODES[code].type;
  }

  toBody() {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

/** The `error` object of a failed Response, from the same catalogue. */
export interface ResponseError {
  code: ErrorCode;
  message: string;
}

export const errors = {
  invalid: (message: string, param: string | null = null, code: ErrorCode = 'invalid_value') => new ApiError(code, message, param),
  missing: (param: string) => new ApiError('missing_required_parameter', `Missing required parameter: '${param}'.`, param),
  unauthorized: (message = 'Invalid or missing API key. Send it as "Authorization: Bearer <key>".') => new ApiError('invalid_api_key', message),
  notFound: (what: string, id: string, param: string | null = null) => new ApiError('not_found', `${what} with id '${id}' not found.`, param),
  routeNotFound: (method: string, url: string) => new ApiError('unknown_route', `Unknown route: ${method} ${url.split('?')[0]}`),
  methodNotAllowed: (method: string, url: string) =>
    new ApiError('method_not_allowed', `Method ${method} is not allowed on ${url.split('?')[0]}`),
  tooLarge: (limit: number) => new ApiError('request_too_large', `Request body is larger than the limit of ${limit} bytes.`),
  conflict: (message: string, param: string | null = null, code: ErrorCode = 'conflict') => new ApiError(code, message, param),
  rateLimited: (message: string, retryAfterSeconds: number) =>
    new ApiError('rate_limit_exceeded', message, null, { 'retry-after': String(retryAfterSeconds) }),
  unavailable: (message: string, code: ErrorCode = 'service_unavailable') => new ApiError(code, message),
  internal: (message = 'The server had an error while processing your request.') => new ApiError('server_error', message),
};

/**
 * A backend's failure as the API reports it: a status the backend gave in the 4xx/5xx range is passed
 * on (its 429 stays a 429), anything else (a network failure: 0) is a 502.
 */
export function fromBackend(err: { message: string; status: number; code: string }, prefix = ''): ApiError {
  const code: ErrorCode = err.status === 429 ? 'rate_limit_exceeded' : isErrorCode(err.code) ? err.code : 'upstream_error';
  const status = err.status >= 400 && err.status < 600 ? err.status : CODES[code].status;
  return new ApiError(code, prefix + err.message, null, {}, status);
}
