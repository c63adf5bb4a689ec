// The one error catalogue. Every failure the API reports goes through ApiError so clients always get
// OpenAI's shape {error:{message,type,param,code}} with a stable code and the right HTTP status.

export type ErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'not_found_error'
  | 'rate_limit_error'
  | 'server_error'
  | 'service_unavailable';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type: ErrorType,
    readonly param: string | null = null,
    readonly code: string | null = null,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }

  toBody() {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

export const errors = {
  invalid: (message: string, param: string | null = null, code: string | null = 'invalid_value') =>
    new ApiError(400, message, 'invalid_request_error', param, code),
  missing: (param: string) =>
    new ApiError(400, `Missing required parameter: '${param}'.`, 'invalid_request_error', param, 'missing_required_parameter'),
  unauthorized: (message = 'Invalid or missing API key. Send it as "Authorization: Bearer <key>".') =>
    new ApiError(401, message, 'authentication_error', null, 'invalid_api_key'),
  notFound: (what: string, id: string, param: string | null = null) =>
    new ApiError(404, `${what} with id '${id}' not found.`, 'not_found_error', param, 'not_found'),
  routeNotFound: (method: string, url: string) =>
    new ApiError(404, `Unknown route: ${method} ${url.split('?')[0]}`, 'invalid_request_error', null, 'unknown_route'),
  methodNotAllowed: (method: string, url: string) =>
    new ApiError(405, `Method ${method} is not allowed on ${url.split('?')[0]}`, 'invalid_request_error', null, 'method_not_allowed'),
  tooLarge: (limit: number) =>
    new ApiError(413, `Request body is larger than the limit of ${limit} bytes.`, 'invalid_request_error', null, 'request_too_large'),
  conflict: (message: string, param: string | null = null, code = 'conflict') =>
    new ApiError(409, message, 'invalid_request_error', param, code),
  rateLimited: (message: string, retryAfterSeconds: number) =>
    new ApiError(429, message, 'rate_limit_error', null, 'rate_limit_exceeded', { 'retry-after': String(retryAfterSeconds) }),
  unavailable: (message: string, code = 'service_unavailable') =>
    new ApiError(503, message, 'service_unavailable', null, code),
  internal: (message = 'The server had an error while processing your request.') =>
    new ApiError(500, message, 'server_error', null, 'server_error'),
};
