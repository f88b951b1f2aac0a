export {};
//# sourceMappingURL=pgoutput-decoder.test.d.ts.map