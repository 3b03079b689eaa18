/** What `check-config` says about groups and input templates (it reads no group: it contacts nobody). Pure. */
import type { PresenceBridgeConfig } from '../config/schema.js';
import { expandInputs } from './inputTemplates.js';

export interface TemplateNote {
  readonly template: string;
  /** Inputs made for the users listed in `users[]`. */
  readonly inputs: number;
  readonly example?: { readonly name: string; readonly user: string; readonly topic: string };
  /** True when group members get one each as well (known only at run time). */
  readonly perGroupMember: boolean;
}

export function templateNotes(config: PresenceBridgeConfig): TemplateNote[] {
  const { templates } = expandInputs(config.inputs, config.users.map((u) => u.key));
  const perGroupMember = (config.userGroups ?? []).length > 0;
  return templates.map((t) => ({
    template: t.name,
    inputs: t.count,
    ...(t.example && t.example.type === 'mqtt' ? { example: { name: t.example.name, user: t.example.user ?? '', topic: t.example.topic } } : {}),
    perGroupMember,
  }));
}

export function formatTemplateNotes(config: PresenceBridgeConfig): string[] {
  const lines = templateNotes(config).map((n) => {
    const example = n.example ? `, e.g. ${n.example.name} on ${n.example.topic}` : '';
    const more = n.perGroupMember ? ', plus one per member of userGroups (read at start)' : '';
    return `Input template "${n.template}": ${n.inputs} input(s) for users[]${example}${more}`;
  });
  for (const g of config.userGroups ?? []) lines.push(`Users from group ${g.id}: keys from ${g.keyFrom}, read again every ${g.refreshMinutes} min (needs GroupMember.Read.All)`);
  return lines;
}
