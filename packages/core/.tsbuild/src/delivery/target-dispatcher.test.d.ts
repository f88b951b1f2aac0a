export {};
//# sourceMappingURL=target-dispatcher.test.d.ts.map