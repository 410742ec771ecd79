/** The control API's JSON replies, shared by the routes and the HTTP listener's own refusals. */

/** A JSON reply with `status`. */
export function jsonResponse(status: number, body: unknown, headers: HeadersInit = {}): Response {
  return new Response(JSON.stringify(body) + "\n", {
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
  });
}

/** A JSON error reply: `{"error": message, ...extra}`. */
export function errorResponse(
  status: number,
  message: string,
  extra: Record<string, unknown> = {},
  headers: HeadersInit = {},
): Response {
  return jsonResponse(status, { error: message, ...extra }, headers);
}
