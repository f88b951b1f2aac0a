export {};
//# sourceMappingURL=ack-tracker.test.d.ts.map