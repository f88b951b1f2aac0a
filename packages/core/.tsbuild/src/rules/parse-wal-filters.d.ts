/** The row-change actions a WAL filter can select. */
export declare const walActions: readonly ["insert", "update", "delete", "truncate"];
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
export declare function parseWalFilters(text: string): WalFilter[];
/** True when no filters are set or one of them selects this change. */
export declare function matchesWalFilters(filters: readonly WalFilter[], schema: string, table: string, action: string): boolean;
//# sourceMappingURL=parse-wal-filters.d.ts.map