export {};
//# sourceMappingURL=errors-doc.test.d.ts.map