import { status as GrpcStatus, type ClientReadableStream, type ServiceError } from "@grpc/grpc-js";
import { cancelCall } from "./cancel-call.js";
import { MacpClientError } from "./client-error.js";

/** A server-to-client message stream: iterate it once; `break` or {@link ResponseStream.cancel} ends the call. */
export interface ResponseStream<T> extends AsyncIterable<T> {
  /** Cancels the call; pending and later iteration ends without an error. */
  cancel(): void;
}

/** Messages buffered before the call is paused; it resumes once the consumer has caught up. */
const HIGH_WATER_MARK = 64;

type Waiter<T> = { resolve(result: IteratorResult<T>): void; reject(error: unknown): void };

/**
 * Adapts a grpc-js readable call to an async iterator. Keeps an `error` listener attached for the
 * call's whole life, because grpc-js emits `error` for every non-OK status, a cancellation
 * included, and an unheard `error` event would crash the process.
 */
export function responseStream<T>(call: ClientReadableStream<T>, signal?: AbortSignal): ResponseStream<T> {
  const queue: T[] = [];
  const waiters: Waiter<T>[] = [];
  let failure: MacpClientError | undefined;
  let finished = false;
  let cancelledByUs = false;
  let iterated = false;

  const settle = (): void => {
    for (const waiter of waiters.splice(0)) {
      if (failure !== undefined) {
        waiter.reject(failure);
        failure = undefined;
      } else {
        waiter.resolve({ value: undefined, done: true });
      }
    }
  };

  call.on("data", (item: T) => {
    if (cancelledByUs) return;
    const waiter = waiters.shift();
    if (waiter !== undefined) {
      waiter.resolve({ value: item, done: false });
      return;
    }
    queue.push(item);
    if (queue.length >= HIGH_WATER_MARK) call.pause();
  });
  call.on("error", (error: ServiceError) => {
    if (cancelledByUs && error.code === GrpcStatus.CANCELLED) return;
    failure = MacpClientError.from(error);
  });
  call.on("end", () => {
    finished = true;
    settle();
  });

  const onAbort = (): void => cancelCall(call);
  if (signal?.aborted === true) onAbort();
  signal?.addEventListener("abort", onAbort, { once: true });
  call.on("status", () => signal?.removeEventListener("abort", onAbort));

  const cancel = (): void => {
    if (finished) return;
    cancelledByUs = true;
    finished = true;
    failure = undefined;
    queue.length = 0;
    cancelCall(call);
    settle();
  };

  return {
    cancel,
    [Symbol.asyncIterator](): AsyncIterator<T> {
      if (iterated) throw new Error("a response stream can be iterated only once");
      iterated = true;
      return {
        next(): Promise<IteratorResult<T>> {
          if (queue.length > 0) {
            const value = queue.shift() as T;
            if (call.isPaused() && queue.length < HIGH_WATER_MARK / 2) call.resume();
            return Promise.resolve({ value, done: false });
          }
          if (finished) {
            const error = failure;
            failure = undefined;
            return error === undefined ? Promise.resolve({ value: undefined, done: true }) : Promise.reject(error);
          }
          return new Promise((resolve, reject) => waiters.push({ resolve, reject }));
        },
        return(): Promise<IteratorResult<T>> {
          cancel();
          return Promise.resolve({ value: undefined, done: true });
        },
      };
    },
  };
}
