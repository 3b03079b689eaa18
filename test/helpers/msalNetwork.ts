/**
 * MSAL's INetworkModule over undici with the emulator's CA, so real @azure/msal-node talks to
 * the emulator over HTTPS and never to the internet. (The production module lives in src/graph/.)
 */
import type { INetworkModule, NetworkRequestOptions, NetworkResponse } from '@azure/msal-node';
import { request, type Dispatcher } from 'undici';

export interface RecordingNetworkModule extends INetworkModule {
  /** Every URL MSAL asked for, in order. */
  readonly urls: string[];
}

export function undiciNetworkModule(dispatcher: Dispatcher): RecordingNetworkModule {
  const urls: string[] = [];
  const send = async <T>(method: 'GET' | 'POST', url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> => {
    urls.push(url);
    const res = await request(url, { method, headers: options?.headers, body: options?.body, dispatcher });
    const text = await res.body.text();
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : {};
    } catch {
      body = { error: 'non_json_response', error_description: text.slice(0, 200) };
    }
    return { headers, body: body as T, status: res.statusCode };
  };
  return {
    urls,
    sendGetRequestAsync: <T>(url: string, options?: NetworkRequestOptions) => send<T>('GET', url, options),
    sendPostRequestAsync: <T>(url: string, options?: NetworkRequestOptions) => send<T>('POST', url, options),
  };
}
