import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { FormatsPlugin } from 'ajv-formats';
import { openApiDocument } from '../../src/httpApi/index.js';

// ajv-formats is CommonJS: its default export arrives wrapped once more under ESM.
const addFormats = ((addFormatsModule as unknown as { default?: FormatsPlugin }).default ?? addFormatsModule) as FormatsPlugin;

interface Operation {
  readonly responses: Record<string, { content?: Record<string, unknown> }>;
}

const DOC_ID = 'https://presence-bridge.invalid/openapi.json';

/** A response as a test received it. */
export interface SeenResponse {
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly contentType: string | null;
  readonly body: unknown;
}

const pointer = (...segments: string[]): string => segments.map((s) => encodeURIComponent(s.replaceAll('~', '~0').replaceAll('/', '~1'))).join('/');

/**
 * Checks responses against the API's own OpenAPI 3.1 document, with ajv's JSON Schema 2020-12
 * (OpenAPI 3.1's dialect). A response of a documented operation must have a documented status and
 * match its schema; anything else the server answers (404 for an unknown path, 405) must still
 * be an `Error`. Keeps which (operation, status) pairs were seen.
 */
export class OpenApiCheck {
  readonly document = openApiDocument() as { paths: Record<string, Record<string, Operation>> };
  readonly seen = new Set<string>();
  private readonly ajv = new Ajv2020({ strict: false, allErrors: true });
  private readonly templates: { template: string; pattern: RegExp }[];

  constructor() {
    addFormats(this.ajv);
    this.ajv.addSchema({ ...this.document, $id: DOC_ID });
    this.templates = Object.keys(this.document.paths).map((template) => ({
      template,
      pattern: new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+').replaceAll('.', '\\.')}$`),
    }));
  }

  /** Throws with ajv's errors when the response does not match the document. */
  check(response: SeenResponse): void {
    const template = this.templates.find((t) => t.pattern.test(response.path))?.template;
    const method = response.method.toLowerCase() === 'head' ? 'get' : response.method.toLowerCase();
    const operation = template === undefined ? undefined : this.document.paths[template]?.[method];
    const label = `${response.method} ${response.path} → ${response.status}`;
    if (!template || !operation) {
      this.validate(`${DOC_ID}#/components/schemas/Error`, response.body, label);
      return;
    }
    const documented = operation.responses[String(response.status)];
    if (!documented) throw new Error(`${label}: status ${response.status} is not documented for ${method.toUpperCase()} ${template}`);
    this.seen.add(`${method.toUpperCase()} ${template} ${response.status}`);
    if (!documented.content) {
      if (response.body !== undefined && response.body !== '') throw new Error(`${label}: a body where the document says none`);
      return;
    }
    if (!response.contentType?.startsWith('application/json')) throw new Error(`${label}: content-type ${response.contentType} where the document says application/json`);
    this.validate(`${DOC_ID}#/${pointer('paths', template, method, 'responses', String(response.status), 'content', 'application/json', 'schema')}`, response.body, label);
  }

  /** Every (METHOD template status) the document lists. */
  documented(): string[] {
    const all: string[] = [];
    for (const [template, item] of Object.entries(this.document.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        if (method === 'parameters') continue;
        for (const status of Object.keys(operation.responses)) all.push(`${method.toUpperCase()} ${template} ${status}`);
      }
    }
    return all;
  }

  /** Throws unless `value` matches `#/components/schemas/<name>`. */
  validateSchema(name: string, value: unknown): void {
    this.validate(`${DOC_ID}#/components/schemas/${name}`, value, name);
  }

  private validate(ref: string, body: unknown, label: string): void {
    const validate = this.ajv.getSchema(ref);
    if (!validate) throw new Error(`${label}: no schema at ${ref}`);
    if (!validate(body)) throw new Error(`${label} does not match the OpenAPI document: ${this.ajv.errorsText(validate.errors)}\n${JSON.stringify(body)}`);
  }
}
