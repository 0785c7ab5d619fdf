/** Invalid runtime configuration; the message names the variable and the problem. Startup aborts. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}
