export {};
//# sourceMappingURL=notify-source.test.d.ts.map