export {};
//# sourceMappingURL=parse-wal-filters.test.d.ts.map