import { readFile } from 'node:fs/promises';
import { rootCertificates } from 'node:tls';
import { Agent, request } from 'undici';
import type { HttpClient, HttpRequest, HttpResult } from './httpTypes.js';

/** Longest response body kept (a light's answer is small; anything bigger is cut). */
const MAX_BODY_BYTES = 64 * 1024;

/** undici's header record as plain strings (a repeated header's values joined with `, `). */
function headersOf(raw: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) if (value !== undefined) out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  return out;
}

/**
 * Outgoing HTTP for features (lights, webhooks): one undici agent for the system's CAs and one
 * per extra CA file, reused across requests so keep-alive works.
 */
export class UndiciHttpClient implements HttpClient {
  private readonly agents = new Map<string, Promise<Agent>>();

  async request(req: HttpRequest): Promise<HttpResult> {
    const dispatcher = await this.agentFor(req.caFile);
    const signal = AbortSignal.timeout(req.timeoutMs);
    const response = await request(req.url, {
      method: req.method as 'GET',
      headers: req.headers ? { ...req.headers } : undefined,
      body: req.body,
      dispatcher,
      signal,
      headersTimeout: req.timeoutMs,
      bodyTimeout: req.timeoutMs,
    });
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of response.body) {
      const buffer = chunk as Buffer;
      if (size < MAX_BODY_BYTES) chunks.push(buffer.subarray(0, MAX_BODY_BYTES - size));
      size += buffer.length;
    }
    return { status: response.statusCode, body: Buffer.concat(chunks).toString('utf8'), headers: headersOf(response.headers) };
  }

  async close(): Promise<void> {
    const agents = await Promise.allSettled([...this.agents.values()]);
    this.agents.clear();
    await Promise.allSettled(agents.flatMap((a) => (a.status === 'fulfilled' ? [a.value.close()] : [])));
  }

  private agentFor(caFile: string | undefined): Promise<Agent> {
    const key = caFile ?? '';
    let agent = this.agents.get(key);
    if (!agent) {
      agent =
        caFile === undefined
          ? Promise.resolve(new Agent())
          : readFile(caFile, 'utf8').then((pem) => new Agent({ connect: { ca: [...rootCertificates, pem] } }));
      // a missing CA file fails this request and is read again next time
      agent.catch(() => this.agents.delete(key));
      this.agents.set(key, agent);
    }
    return agent;
  }
}
