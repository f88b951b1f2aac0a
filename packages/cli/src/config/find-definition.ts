import type { UpstreamDefinition } from '@pg-event-bridge/core';

/** The definition whose kind or alias is `kind` (case-insensitive), if any. */
export function findDefinition(kind: string, definitions: readonly UpstreamDefinition[]): UpstreamDefinition | undefined {
  const wanted = kind.trim().toLowerCase();
  return definitions.find((definition) => definition.kind === wanted || (definition.aliases ?? []).includes(wanted));
}

/** `amqp, awssns (or sns), ...`: the kinds a user may write, for error messages. */
export function describeKinds(definitions: readonly UpstreamDefinition[]): string {
  return definitions
    .map((definition) => (definition.aliases?.length ? `${definition.kind} (or ${definition.aliases.join(', ')})` : definition.kind))
    .join(', ');
}
