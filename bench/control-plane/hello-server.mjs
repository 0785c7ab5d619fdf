// The same-run baseline of bench/control-plane/http.mjs: a bare Fastify 5 server (no plugins,
// logger off) in its own process. GET /hello answers a small JSON object; POST /hello parses the
// JSON body and answers 201 with a small JSON object, so both directions of the request cost are
// in the baseline. Prints `listening on <url>` once ready.
import Fastify from "fastify";

const app = Fastify({ logger: false });
app.get("/hello", async () => ({ hello: "world" }));
app.post("/hello", async (request, reply) => reply.status(201).send({ received: Object.keys(request.body ?? {}).length }));
const url = await app.listen({ host: "127.0.0.1", port: 0 });
process.stdout.write(`listening on ${url}\n`);
process.on("SIGTERM", () => void app.close().then(() => process.exit(0)));
