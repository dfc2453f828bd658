package dev.troupe.core.storage.internal;

import dev.troupe.core.storage.Dialect;
import dev.troupe.core.storage.StorageException;
import dev.troupe.core.storage.StorageSchema;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** INTERNAL API. Applies {@link StorageSchema}s and records their versions in troupe_schema. */
public final class SchemaInstaller {
  /*
   * Versions: troupe_schema holds one row per schema name with the version last applied. A schema
   * runs when its row is missing or older; a newer row is left alone (a newer node upgraded the
   * database during a rolling upgrade). Statements are idempotent, so running them again after a
   * crash between the statements and the row is harmless.
   *
   * Concurrency: several nodes may start at once against one database. On PostgreSQL two
   * concurrent CREATE TABLE IF NOT EXISTS for the same table can both pass the existence check and
   * one then fails with a unique violation on pg_type. DDL is transactional there, so everything
   * runs in one transaction that first takes pg_advisory_xact_lock(ADVISORY_LOCK_KEY): nodes apply
   * schemas one after another, the later ones find the rows current and do nothing; the lock is
   * released by commit or rollback, also when the connection dies. lock_timeout bounds the wait
   * for a node that is stuck. The key is per database (not per PostgreSQL schema), which only
   * serializes more than needed.
   *
   * H2 and others: DDL commits implicitly, so statements run one by one under a JVM-wide lock
   * (an embedded H2 database belongs to one JVM); recording the version tolerates a concurrent
   * insert of the same row by another process.
   */

  /** How much longer than the lock timeout the schema transaction's reads may block. */
  private static final long NETWORK_MARGIN_MILLIS = 30_000;

  /** {@code pg_advisory_xact_lock} key: "troupe" in ASCII, then 0x0001 for schema creation. */
  public static final long ADVISORY_LOCK_KEY = 0x7472_6f75_7065_0001L;

  private static final Logger log = LoggerFactory.getLogger(SchemaInstaller.class);
  private static final Object LOCAL_LOCK = new Object();
  private static final int MAX_NAME_LENGTH = 200;

  private final DataSource dataSource;
  private final Dialect dialect;
  private final String displayUrl;
  private final Collection<String> secrets;
  private final Duration lockTimeout;

  /**
   * An installer for {@code dataSource}; {@code displayUrl} names the database in errors, whose
   * messages never contain any of {@code secrets}.
   */
  public SchemaInstaller(
      DataSource dataSource,
      Dialect dialect,
      String displayUrl,
      Collection<String> secrets,
      Duration lockTimeout) {
    this.dataSource = dataSource;
    this.dialect = dialect;
    this.displayUrl = displayUrl;
    this.secrets = List.copyOf(secrets);
    this.lockTimeout = lockTimeout;
  }

  /**
   * The schemas registered in {@code META-INF/services/dev.troupe.core.storage.StorageSchema}
   * visible to the thread's context class loader: core's first, then by name.
   *
   * @throws IllegalStateException if two different classes claim the same name
   */
  public static List<StorageSchema> discover() {
    Map<String, StorageSchema> byName = new LinkedHashMap<>();
    try {
      for (StorageSchema schema : ServiceLoader.load(StorageSchema.class)) {
        validate(schema);
        StorageSchema previous = byName.putIfAbsent(schema.name(), schema);
        if (previous != null && previous.getClass() != schema.getClass()) {
          throw new IllegalStateException(
              "Two StorageSchema classes are named ["
                  + schema.name()
                  + "]: "
                  + previous.getClass().getName()
                  + " and "
                  + schema.getClass().getName());
        }
      }
    } catch (ServiceConfigurationError e) {
      throw new IllegalStateException("Cannot load StorageSchema providers: " + e.getMessage(), e);
    }
    List<StorageSchema> schemas = new ArrayList<>(byName.values());
    schemas.sort(
        Comparator.comparing((StorageSchema s) -> !s.name().equals(CoreSchema.NAME))
            .thenComparing(StorageSchema::name));
    return schemas;
  }

  /**
   * Checks what troupe_schema needs: a name of 1 to 200 characters and a version of at least 1.
   *
   * @throws IllegalArgumentException naming the schema class otherwise
   */
  public static void validate(StorageSchema schema) {
    if (schema == null) {
      throw new IllegalArgumentException("schema must not be null");
    }
    String what = "StorageSchema " + schema.getClass().getName();
    String name = schema.name();
    if (name == null || name.isBlank() || name.length() > MAX_NAME_LENGTH) {
      throw new IllegalArgumentException(
          what + ": name() must have 1.." + MAX_NAME_LENGTH + " characters, got: [" + name + "]");
    }
    if (schema.version() < 1) {
      throw new IllegalArgumentException(
          what + ": version() must be >= 1, got: " + schema.version());
    }
  }

  /**
   * Applies those of {@code schemas} whose recorded version is missing or older; returns them as
   * {@code name vN}.
   *
   * @throws StorageException if a statement fails; on PostgreSQL nothing is then changed
   */
  public List<String> apply(List<StorageSchema> schemas) {
    schemas.forEach(SchemaInstaller::validate);
    try {
      if (dialect == Dialect.POSTGRESQL) {
        return applyInLockedTransaction(schemas);
      }
      synchronized (LOCAL_LOCK) {
        try (Connection connection = dataSource.getConnection()) {
          connection.setAutoCommit(true);
          return applyAll(connection, schemas);
        }
      }
    } catch (SQLException e) {
      throw new StorageException(
          "Cannot create the tables in ["
              + displayUrl
              + "]: "
              + JdbcUrls.scrub(e.getMessage(), secrets),
          JdbcUrls.redactChain(e, secrets));
    }
  }

  private List<String> applyInLockedTransaction(List<StorageSchema> schemas) throws SQLException {
    try (Connection connection = dataSource.getConnection()) {
      connection.setAutoCommit(false);
      // The lock wait may outlast troupe.storage.socket-timeout: give this connection a read
      // timeout beyond the lock timeout (the pool restores its own when the connection returns).
      if (connection.getNetworkTimeout() > 0) {
        connection.setNetworkTimeout(
            Runnable::run,
            (int) Math.min(Integer.MAX_VALUE, lockTimeout.toMillis() + NETWORK_MARGIN_MILLIS));
      }
      try {
        try (Statement statement = connection.createStatement()) {
          statement.execute("SET LOCAL lock_timeout = " + Math.max(1, lockTimeout.toMillis()));
          statement.execute("SELECT pg_advisory_xact_lock(" + ADVISORY_LOCK_KEY + ")");
        }
        List<String> applied = applyAll(connection, schemas);
        connection.commit();
        return applied;
      } catch (SQLException | RuntimeException e) {
        try {
          connection.rollback();
        } catch (SQLException rollbackFailure) {
          e.addSuppressed(rollbackFailure);
        }
        throw e;
      }
    }
  }

  private List<String> applyAll(Connection connection, List<StorageSchema> schemas)
      throws SQLException {
    execute(connection, CoreSchema.CREATE_SCHEMA_TABLE);
    List<String> applied = new ArrayList<>();
    for (StorageSchema schema : schemas) {
      OptionalInt recorded = recordedVersion(connection, schema.name());
      if (recorded.isPresent() && recorded.getAsInt() >= schema.version()) {
        if (recorded.getAsInt() > schema.version()) {
          log.info(
              "Schema [{}] is at version {} in [{}], newer than this node's {}: left as is",
              schema.name(),
              recorded.getAsInt(),
              displayUrl,
              schema.version());
        }
        continue;
      }
      try {
        List<String> statements = schema.statements(dialect);
        if (statements == null) {
          throw new IllegalArgumentException(
              "StorageSchema " + schema.getClass().getName() + ": statements() returned null");
        }
        for (String sql : statements) {
          execute(connection, sql);
        }
        record(connection, schema, recorded.isPresent());
      } catch (SQLException e) {
        throw new StorageException(
            "Cannot apply schema ["
                + schema.name()
                + "] version "
                + schema.version()
                + " to ["
                + displayUrl
                + "]: "
                + JdbcUrls.scrub(e.getMessage(), secrets),
            JdbcUrls.redactChain(e, secrets));
      }
      applied.add(schema.name() + " v" + schema.version());
    }
    return applied;
  }

  private static void execute(Connection connection, String sql) throws SQLException {
    try (Statement statement = connection.createStatement()) {
      statement.execute(sql);
    }
  }

  private static OptionalInt recordedVersion(Connection connection, String name)
      throws SQLException {
    try (PreparedStatement select =
        connection.prepareStatement("SELECT version FROM troupe_schema WHERE name = ?")) {
      select.setString(1, name);
      try (ResultSet rows = select.executeQuery()) {
        return rows.next() ? OptionalInt.of(rows.getInt(1)) : OptionalInt.empty();
      }
    }
  }

  private void record(Connection connection, StorageSchema schema, boolean exists)
      throws SQLException {
    if (exists) {
      update(connection, schema);
      return;
    }
    try (PreparedStatement insert =
        connection.prepareStatement(
            "INSERT INTO troupe_schema (name, version, applied_at)"
                + " VALUES (?, ?, CURRENT_TIMESTAMP)")) {
      insert.setString(1, schema.name());
      insert.setInt(2, schema.version());
      insert.executeUpdate();
    } catch (SQLException e) {
      // Another process recorded it in between (possible only outside PostgreSQL's lock).
      boolean duplicate = StorageException.isConstraintViolation(e);
      if (dialect == Dialect.POSTGRESQL || !duplicate) {
        throw e;
      }
      update(connection, schema);
    }
  }

  /** Raises the recorded version to the schema's, never lowers it. */
  private static void update(Connection connection, StorageSchema schema) throws SQLException {
    try (PreparedStatement update =
        connection.prepareStatement(
            "UPDATE troupe_schema SET version = ?, applied_at = CURRENT_TIMESTAMP"
                + " WHERE name = ? AND version < ?")) {
      update.setInt(1, schema.version());
      update.setString(2, schema.name());
      update.setInt(3, schema.version());
      update.executeUpdate();
    }
  }
}
