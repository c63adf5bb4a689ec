// Standard Webhooks signing, as OpenAI signs (the openai package's webhooks.unwrap() verifies it):
// webhook-signature = "v1," + base64(HMAC-SHA256(secret bytes, "<webhook-id>.<webhook-timestamp>.<body>")),
// where a whsec_ secret's bytes are the base64 after the prefix.
import { createHmac } from 'node:crypto';

export function signatureHeaders(secret: string, id: string, body: string, nowSeconds = Math.floor(Date.now() / 1000)): Record<string, string> {
  const key = secret.startsWith('whsec_') ? Buffer.from(secret.slice(6), 'base64') : Buffer.from(secret, 'utf8');
  const timestamp = String(nowSeconds);
  const sig = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
  return { 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': `v1,${sig}` };
}
