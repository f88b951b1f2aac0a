export {};
//# sourceMappingURL=parse-rules.test.d.ts.map