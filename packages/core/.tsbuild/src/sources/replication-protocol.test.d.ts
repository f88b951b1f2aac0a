export {};
//# sourceMappingURL=replication-protocol.test.d.ts.map