import { BridgeError } from '../errors.js';

/** The row-change actions a WAL filter can select. */
export const walActions = ['insert', 'update', 'delete', 'truncate'] as const;
export type WalAction = (typeof walActions)[number];

/** Selects changes of one table (in any schema when `schema` is absent), optionally of one action. */
export interface WalFilter {
  readonly schema?: string;
  readonly table: string;
  readonly action?: WalAction;
}

/**
 * Parses a WAL filter list in the OpenFaaS postgres-connector style: `customer:insert,customer:update`,
 * optionally schema-qualified (`billing.invoice:delete`) or without an action (`orders`, all actions).
 *
 * @example
 * ```ts
 * parseWalFilters('customer:insert, billing.invoice');
 * // [{ table: 'customer', action: 'insert' }, { schema: 'billing', table: 'invoice' }]
 * ```
 */
export function parseWalFilters(text: string): WalFilter[] {
  const filters: WalFilter[] = [];
  for (const raw of text.split(',')) {
    const item = raw.trim();
    if (item === '') continue;
    const [name = '', action, extra] = item.split(':').map((part) => part.trim());
    const dot = name.indexOf('.');
    const schema = dot === -1 ? undefined : name.slice(0, dot);
    const table = dot === -1 ? name : name.slice(dot + 1);
    const problem =
      extra !== undefined
        ? 'expected "table:action"'
        : table === '' || schema === ''
          ? 'the table name is empty'
          : action !== undefined && !(walActions as readonly string[]).includes(action)
            ? `unknown action "${action}" (use ${walActions.join(', ')})`
            : undefined;
    if (problem) throw new BridgeError('ERR_BRIDGE_CONFIG', `[wal] Invalid table filter "${item}" in "${text}": ${problem}`);
    filters.push({ ...(schema === undefined ? {} : { schema }), table, ...(action === undefined ? {} : { action: action as WalAction }) });
  }
  return filters;
}

/** True when no filters are set or one of them selects this change. */
export function matchesWalFilters(filters: readonly WalFilter[], schema: string, table: string, action: string): boolean {
  if (filters.length === 0) return true;
  return filters.some((f) => f.table === table && (f.schema === undefined || f.schema === schema) && (f.action === undefined || f.action === action));
}
