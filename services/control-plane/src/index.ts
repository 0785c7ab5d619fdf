/**
 * @macp/control-plane: the HTTP control plane over MACP runs. Embed it with
 * {@link startControlPlane}(loadConfig(env)).
 */
export { startControlPlane } from "./server.js";
export type { ControlPlaneHandle, StartOptions } from "./server.js";
export { ConfigError, loadConfig, describeConfig, hashApiKey, SCOPES } from "./config/config.js";
export type { ControlPlaneConfig, Scope } from "./config/config.js";
export { createLogger } from "./observability/logger.js";
export type { WebhookQueueFactory } from "./webhooks/webhook-delivery.js";
export type { WebhookDeliveryQueue, WebhookQueueDependencies } from "./webhooks/delivery-queue.js";
export type { WebhookClock } from "./webhooks/webhook-dispatcher.js";
