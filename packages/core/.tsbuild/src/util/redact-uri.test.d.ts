export {};
//# sourceMappingURL=redact-uri.test.d.ts.map