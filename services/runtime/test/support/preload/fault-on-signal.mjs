// Preloaded into a daemon by fault-policy.test.ts (`node --import`): on SIGUSR2, raises the fault
// named by INJECT_FAULT where nothing handles it, as a bug in any callback would.
process.on("SIGUSR2", () => {
  if (process.env.INJECT_FAULT === "unhandledRejection") {
    void Promise.reject(new Error("injected unhandled rejection"));
  } else {
    setImmediate(() => {
      throw new Error("injected uncaught exception");
    });
  }
});
