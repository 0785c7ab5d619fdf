// Module hooks registered by break-index.mjs: appends a patch to the built log-index module.
let sessionId;

export function initialize(data) {
  sessionId = data.sessionId;
}

export async function load(url, context, nextLoad) {
  const loaded = await nextLoad(url, context);
  if (!url.endsWith("/packages/storage/dist/file/log-index.js")) return loaded;
  const patch = `
const indexEntry = LogIndex.prototype.add;
LogIndex.prototype.add = function (sessionId, ...rest) {
  if (sessionId === ${JSON.stringify(sessionId)}) throw new Error("injected index failure");
  return indexEntry.call(this, sessionId, ...rest);
};`;
  return { ...loaded, source: `${Buffer.from(loaded.source).toString("utf8")}\n${patch}\n` };
}
