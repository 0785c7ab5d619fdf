import { MemoryStore } from "../src/index.js";
import { describeSessionStoreContract } from "./session-store-contract.js";

describeSessionStoreContract("MemoryStore", {
  durable: false,
  async createBackend() {
    return { open: async () => new MemoryStore(), dispose: async () => undefined };
  },
});
