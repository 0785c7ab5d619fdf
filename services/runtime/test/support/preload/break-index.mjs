// Preloaded into a daemon by fault-policy.test.ts (`node --import`): the file store's log index
// throws when it indexes a record of the session named by BREAK_INDEX_SESSION. That runs inside
// the WAL writer's durability callback (`onDurable`), after the record's fdatasync.
import { register } from "node:module";

register("./break-index-hooks.mjs", import.meta.url, { data: { sessionId: process.env.BREAK_INDEX_SESSION } });
