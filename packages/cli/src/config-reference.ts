import { z } from 'zod';

/** One row of the config reference: a dotted field path, its type and its default. */
export interface ConfigField {
  path: string;
  type: string;
  default?: unknown;
  optional: boolean;
}

/**
 * Lists the fields of a zod object schema (recursively through objects), with defaults. Used to
 * check that the README's config reference matches the schema.
 */
export function listConfigFields(schema: z.ZodType, prefix = ''): ConfigField[] {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonNode;
  return walk(json, prefix);
}

interface JsonNode {
  type?: string | string[];
  properties?: Record<string, JsonNode>;
  required?: string[];
  default?: unknown;
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonNode[];
  oneOf?: JsonNode[];
  items?: JsonNode;
}

function describe(node: JsonNode): string {
  if (node.enum) return node.enum.map((v) => JSON.stringify(v)).join(' | ');
  if (node.const !== undefined) return JSON.stringify(node.const);
  if (node.anyOf || node.oneOf) return (node.anyOf ?? node.oneOf)!.map(describe).join(' | ');
  if (node.type === 'array') return `${node.items ? describe(node.items) : 'any'}[]`;
  if (Array.isArray(node.type)) return node.type.join(' | ');
  return node.type ?? 'any';
}

function walk(node: JsonNode, prefix: string): ConfigField[] {
  const out: ConfigField[] = [];
  for (const [key, child] of Object.entries(node.properties ?? {})) {
    const path = prefix ? `${prefix}.${key}` : key;
    const optional = !(node.required ?? []).includes(key);
    if (child.type === 'object' && child.properties) {
      out.push(...walk(child, path));
      continue;
    }
    out.push({ path, type: describe(child), optional, ...(child.default !== undefined ? { default: child.default } : {}) });
  }
  return out;
}
