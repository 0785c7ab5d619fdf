import { SpanKind, trace } from "@opentelemetry/api";
import type { CompiledQuery, DatabaseConnection, Dialect, Driver, QueryResult, TransactionSettings } from "kysely";
import { inSpan } from "./tracing.js";

const STATEMENT_LIMIT = 2_048;

/** A connection whose queries each run in a client span (`SELECT`, `INSERT`, …) with the SQL text; values stay parameters, never in the span. */
class TracedConnection implements DatabaseConnection {
  constructor(readonly inner: DatabaseConnection) {}

  executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    // Only inside a trace: background queries (lease renewals, ingest) would each start a one-span trace.
    if (trace.getActiveSpan() === undefined) return this.inner.executeQuery<R>(query);
    const operation = /^\s*(?:with\b[\s\S]*?\)\s*)?([a-z]+)/i.exec(query.sql)?.[1]?.toUpperCase() ?? "QUERY";
    return inSpan(
      operation,
      { kind: SpanKind.CLIENT, attributes: { "db.system.name": "postgresql", "db.operation.name": operation, "db.query.text": query.sql.slice(0, STATEMENT_LIMIT) } },
      () => this.inner.executeQuery<R>(query),
    );
  }

  streamQuery<R>(query: CompiledQuery, chunkSize?: number): AsyncIterableIterator<QueryResult<R>> {
    return this.inner.streamQuery<R>(query, chunkSize);
  }
}

const unwrap = (connection: DatabaseConnection): DatabaseConnection => (connection instanceof TracedConnection ? connection.inner : connection);

function tracedDriver(inner: Driver): Driver {
  const driver: Driver = {
    init: () => inner.init(),
    acquireConnection: async () => new TracedConnection(await inner.acquireConnection()),
    beginTransaction: (connection: DatabaseConnection, settings: TransactionSettings) => inner.beginTransaction(unwrap(connection), settings),
    commitTransaction: (connection: DatabaseConnection) => inner.commitTransaction(unwrap(connection)),
    rollbackTransaction: (connection: DatabaseConnection) => inner.rollbackTransaction(unwrap(connection)),
    releaseConnection: (connection: DatabaseConnection) => inner.releaseConnection(unwrap(connection)),
    destroy: () => inner.destroy(),
  };
  // Savepoints are optional in a driver; offer them only when the wrapped one has them.
  if (inner.savepoint) driver.savepoint = (connection, name, compile) => inner.savepoint!(unwrap(connection), name, compile);
  if (inner.rollbackToSavepoint) driver.rollbackToSavepoint = (connection, name, compile) => inner.rollbackToSavepoint!(unwrap(connection), name, compile);
  if (inner.releaseSavepoint) driver.releaseSavepoint = (connection, name, compile) => inner.releaseSavepoint!(unwrap(connection), name, compile);
  return driver;
}

/** `inner` with a span around every query made inside a trace (a child of the active span: the HTTP request, a runtime call, …). */
export function tracedDialect(inner: Dialect): Dialect {
  return {
    createAdapter: () => inner.createAdapter(),
    createDriver: () => tracedDriver(inner.createDriver()),
    createQueryCompiler: () => inner.createQueryCompiler(),
    createIntrospector: (db) => inner.createIntrospector(db),
  };
}
