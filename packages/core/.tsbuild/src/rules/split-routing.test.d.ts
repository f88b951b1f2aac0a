export {};
//# sourceMappingURL=split-routing.test.d.ts.map