package dev.troupe.core.storage;

import static dev.troupe.core.Preconditions.requireNonBlank;
import static dev.troupe.core.Preconditions.requireNonNull;
import static dev.troupe.core.Preconditions.requireState;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.metrics.micrometer.MicrometerMetricsTrackerFactory;
import com.zaxxer.hikari.pool.HikariPool;
import dev.troupe.core.storage.internal.JdbcUrls;
import dev.troupe.core.storage.internal.SchemaInstaller;
import dev.troupe.core.storage.internal.StorageExtension;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.apache.pekko.actor.typed.ActorSystem;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A pooled JDBC {@link DataSource} (HikariCP) for Troupe's tables and the applications that use
 * them, configured by {@code troupe.storage}.
 *
 * <pre>{@code
 * Storage storage = Storage.get(system);             // the node's shared storage
 * try (Connection connection = storage.dataSource().getConnection()) {
 *   ...
 * }
 *
 * try (Storage own = Storage.fromUrl("jdbc:postgresql://db:5432/troupe?user=troupe")) {
 *   ...                                              // a storage you create, you close
 * }
 * }</pre>
 *
 * <p>By default the database is an embedded H2 file database ({@code jdbc:h2:file:./data/troupe});
 * for a cluster point {@code troupe.storage.url} of every node at one PostgreSQL database.
 *
 * <p>Opening a storage connects at once: a URL that is not a JDBC URL, one no driver on the class
 * path accepts, or a database that cannot be reached within {@code
 * troupe.storage.connection-timeout} fails with a {@link StorageException}. Then, if {@code
 * troupe.storage.create-tables = on}, it creates the missing tables of every {@link StorageSchema}
 * registered through {@link java.util.ServiceLoader} (see there), safely also when several nodes
 * start at once.
 *
 * <p>No message, log line or exception of a storage contains the database password: the URL is
 * shown as {@link #displayUrl()}.
 *
 * <p>Thread-safe.
 *
 * @since 0.1.0
 */
public final class Storage implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Storage.class);
  private static final AtomicInteger poolCounter = new AtomicInteger();

  private final StorageSettings settings;
  private final HikariDataSource dataSource;
  private final Dialect dialect;
  private final String displayUrl;
  private final SchemaInstaller installer;
  private final MeterRegistry meterRegistry;
  private final Timer statementsOk;
  private final Timer statementsFailed;

  private Storage(
      StorageSettings settings,
      HikariDataSource dataSource,
      Dialect dialect,
      String displayUrl,
      List<String> secrets,
      MeterRegistry meterRegistry) {
    this.settings = settings;
    this.meterRegistry = meterRegistry;
    this.statementsOk = statementTimer(meterRegistry, "ok");
    this.statementsFailed = statementTimer(meterRegistry, "failed");
    this.dataSource = dataSource;
    this.dialect = dialect;
    this.displayUrl = displayUrl;
    this.installer =
        new SchemaInstaller(dataSource, dialect, displayUrl, secrets, settings.schemaLockTimeout());
  }

  /**
   * The node's shared storage: one per actor system, opened from {@code troupe.storage} on first
   * call and closed once the system has terminated (after CoordinatedShutdown). Troupe's modules
   * use it; callers must not close it.
   *
   * @throws StorageException if it cannot be opened; the next call tries again
   * @throws IllegalArgumentException if {@code system} is null or a setting is invalid
   * @throws IllegalStateException if {@code system} has terminated
   */
  public static Storage get(ActorSystem<?> system) {
    requireNonNull(system, "system");
    return StorageExtension.get(system).storage();
  }

  /**
   * {@code jdbcUrl} without its passwords (password parameters and user-info), as Troupe shows URLs
   * in messages and logs: {@code jdbc:postgresql://db/x?user=u&password=p} becomes {@code
   * jdbc:postgresql://db/x?user=u}. Null stays null.
   */
  public static String redact(String jdbcUrl) {
    return JdbcUrls.redact(jdbcUrl);
  }

  /**
   * Opens a new storage from {@code system}'s {@code troupe.storage} settings; the caller owns it
   * and closes it.
   *
   * @throws StorageException if it cannot be opened or the tables cannot be created
   * @throws IllegalArgumentException if {@code system} is null or a setting is invalid
   */
  public static Storage create(ActorSystem<?> system) {
    return create(StorageSettings.create(system));
  }

  /**
   * Opens a new storage for {@code jdbcUrl} (for example {@code jdbc:h2:mem:x} or {@code
   * jdbc:postgresql://host:5432/db?user=u&password=p}) with the other settings of core's {@code
   * reference.conf}; the caller closes it.
   *
   * @throws IllegalArgumentException if {@code jdbcUrl} is null or blank
   * @throws StorageException if it cannot be opened or the tables cannot be created
   */
  public static Storage fromUrl(String jdbcUrl) {
    requireNonBlank(jdbcUrl, "jdbcUrl");
    return create(StorageSettings.defaults().withUrl(jdbcUrl));
  }

  /**
   * Opens a new storage with {@code settings}; the caller closes it. Connects within {@code
   * troupe.storage.connection-timeout}, then applies the discovered schemas if {@code
   * troupe.storage.create-tables = on}.
   *
   * @throws IllegalArgumentException if {@code settings} is null
   * @throws StorageException if the URL is not a JDBC URL or no driver accepts it, the database
   *     cannot be reached or refuses the credentials, or the tables cannot be created; the message
   *     names {@link #displayUrl()}
   */
  public static Storage create(StorageSettings settings) {
    return create(settings, null);
  }

  /**
   * Like {@link #create(StorageSettings)}, with the storage's meters on {@code meterRegistry}:
   * HikariCP's pool meters ({@code hikaricp.connections.*}, tagged {@code pool}) and {@code
   * troupe.storage.statement} (the time of each {@link #inTransaction}, tagged {@code outcome}).
   * The node's storage ({@link #get(ActorSystem)}) records on the node's registry ({@code
   * TroupeNode.meterRegistry()}). {@code meterRegistry} may be null: no meters.
   *
   * @throws IllegalArgumentException if {@code settings} is null
   * @throws StorageException as {@link #create(StorageSettings)}
   */
  public static Storage create(StorageSettings settings, MeterRegistry meterRegistry) {
    requireNonNull(settings, "settings");
    String url = settings.url();
    String displayUrl = JdbcUrls.redact(url);
    List<String> secrets = new ArrayList<>(JdbcUrls.secrets(url));
    JdbcUrls.addIfPresent(secrets, settings.password());

    if (!url.regionMatches(true, 0, "jdbc:", 0, 5)) {
      throw new StorageException(
          "Cannot open storage ["
              + displayUrl
              + "]: not a JDBC URL (troupe.storage.url must start with \"jdbc:\")");
    }
    try {
      DriverManager.getDriver(url);
    } catch (SQLException e) {
      throw new StorageException(
          "Cannot open storage ["
              + displayUrl
              + "]: no JDBC driver on the class path accepts it"
              + driverHint(url));
    }

    HikariDataSource dataSource = openPool(settings, displayUrl, secrets, meterRegistry);
    try {
      Dialect dialect = detectDialect(dataSource);
      Storage storage =
          new Storage(
              settings,
              dataSource,
              dialect,
              displayUrl,
              secrets,
              meterRegistry == null ? new CompositeMeterRegistry() : meterRegistry);
      List<String> applied =
          settings.createTables() ? storage.installer.apply(SchemaInstaller.discover()) : List.of();
      log.info(
          "Storage [{}] open: {}, at most {} connections, schemas applied: {}",
          displayUrl,
          dialect,
          settings.maximumPoolSize(),
          applied.isEmpty() ? "none needed" : applied);
      return storage;
    } catch (SQLException e) {
      dataSource.close();
      throw new StorageException(
          "Cannot open storage [" + displayUrl + "]: " + JdbcUrls.scrub(e.getMessage(), secrets),
          JdbcUrls.redactChain(e, secrets));
    } catch (RuntimeException e) {
      dataSource.close();
      throw e;
    }
  }

  /**
   * Which dependency provides the driver for {@code url}: troupe-core leaves the choice of JDBC
   * driver to the application.
   */
  static String driverHint(String url) {
    String lower = url.toLowerCase(java.util.Locale.ROOT);
    if (lower.startsWith("jdbc:h2:")) {
      return "; add the H2 driver to the application: com.h2database:h2";
    }
    if (lower.startsWith("jdbc:postgresql:")) {
      return "; add the PostgreSQL driver to the application: org.postgresql:postgresql";
    }
    return "; add the JDBC driver for this URL to the application";
  }

  private static Timer statementTimer(MeterRegistry registry, String outcome) {
    return Timer.builder("troupe.storage.statement")
        .description("The work of one Storage.inTransaction, from borrowing to commit or rollback")
        .tag("outcome", outcome)
        .register(registry);
  }

  private static HikariDataSource openPool(
      StorageSettings settings,
      String displayUrl,
      List<String> secrets,
      MeterRegistry meterRegistry) {
    HikariConfig config = new HikariConfig();
    if (meterRegistry != null) {
      config.setMetricsTrackerFactory(new MicrometerMetricsTrackerFactory(meterRegistry));
    }
    config.setPoolName("troupe-storage-" + poolCounter.incrementAndGet());
    config.setJdbcUrl(durable(settings.url()));
    boundReads(config, settings);
    if (!settings.user().isEmpty()) {
      config.setUsername(settings.user());
    }
    if (!settings.password().isEmpty()) {
      config.setPassword(settings.password());
    }
    long connectionTimeout = settings.connectionTimeout().toMillis();
    config.setMaximumPoolSize(settings.maximumPoolSize());
    config.setMinimumIdle(Math.min(settings.minimumIdle(), settings.maximumPoolSize()));
    config.setConnectionTimeout(connectionTimeout);
    config.setValidationTimeout(
        Math.min(settings.validationTimeout().toMillis(), connectionTimeout));
    // Connect at start and keep trying for at most the connection timeout, then fail.
    config.setInitializationFailTimeout(connectionTimeout);
    try {
      return new HikariDataSource(config);
    } catch (RuntimeException e) {
      Throwable cause =
          e instanceof HikariPool.PoolInitializationException && e.getCause() != null
              ? e.getCause()
              : e;
      throw new StorageException(
          "Cannot open storage ["
              + displayUrl
              + "]: "
              + JdbcUrls.scrub(String.valueOf(cause.getMessage()), secrets),
          JdbcUrls.redactChain(cause, secrets));
    }
  }

  /**
   * PostgreSQL: without a socket timeout, a statement sent on a connection whose network path was
   * cut blocks until TCP gives up or recovers: after a 60 s cut the chaos harness saw statements
   * hang 46 s past the heal (retransmission back-off). {@code troupe.storage.socket-timeout} fails
   * them instead, and the pool replaces the connection. A {@code socketTimeout} in the URL wins.
   *
   * <p>The server side gets the same bound: each session's TCP keepalive (server defaults: 2 hours)
   * is set so that the server ends the session of a client that went silent after about a third of
   * the socket timeout plus 3 s. A client cut off inside a transaction would otherwise keep its row
   * locks (a fenced write's {@code FOR SHARE} on the epoch row, which the next owner's epoch update
   * waits for) for hours. A paused client is not ended: its kernel answers the probes. An {@code
   * options} parameter in the URL wins.
   */
  private static void boundReads(HikariConfig config, StorageSettings settings) {
    String lower = settings.url().toLowerCase(Locale.ROOT);
    if (!lower.startsWith("jdbc:postgresql:") || settings.socketTimeout().isZero()) {
      return;
    }
    long seconds = (settings.socketTimeout().toMillis() + 999) / 1000;
    if (!lower.contains("sockettimeout=")) {
      config.addDataSourceProperty("socketTimeout", String.valueOf(seconds));
    }
    config.addDataSourceProperty("tcpKeepAlive", "true");
    if (!lower.contains("options=")) {
      config.addDataSourceProperty(
          "options",
          "-c tcp_keepalives_idle="
              + Math.max(1, seconds / 3)
              + " -c tcp_keepalives_interval=1 -c tcp_keepalives_count=3");
    }
  }

  /**
   * An H2 database on disk writes committed transactions to its file after a delay (500 ms by
   * default): a process killed within it loses acknowledged commits (measured by the chaos harness:
   * 22 of 1033 acknowledged writes when the node hosting an auto-server database was SIGKILLed).
   * Unless the URL sets {@code WRITE_DELAY} itself, Troupe opens H2 files with {@code
   * WRITE_DELAY=0}: every commit reaches the file (the operating system's cache) before it returns,
   * so a killed process loses nothing it acknowledged.
   */
  static String durable(String url) {
    String lower = url.toLowerCase(Locale.ROOT);
    if (!lower.startsWith("jdbc:h2:") || lower.startsWith("jdbc:h2:mem:")) {
      return url;
    }
    if (lower.contains("write_delay")) {
      return url;
    }
    return url + ";WRITE_DELAY=0";
  }

  private static Dialect detectDialect(DataSource dataSource) throws SQLException {
    try (Connection connection = dataSource.getConnection()) {
      String product = connection.getMetaData().getDatabaseProductName();
      String normalized = product == null ? "" : product.toLowerCase(Locale.ROOT);
      if (normalized.equals("h2")) {
        return Dialect.H2;
      }
      if (normalized.startsWith("postgresql")) {
        return Dialect.POSTGRESQL;
      }
      return Dialect.OTHER;
    }
  }

  /** The pooled data source; borrow connections with try-with-resources. */
  public DataSource dataSource() {
    return dataSource;
  }

  /** The database's SQL dialect, detected from the driver when the storage opened. */
  public Dialect dialect() {
    return dialect;
  }

  /** Whether the database is PostgreSQL ({@link #dialect()} is {@link Dialect#POSTGRESQL}). */
  public boolean isPostgres() {
    return dialect == Dialect.POSTGRESQL;
  }

  /**
   * The JDBC URL without any password: {@code password=...} parameters (after {@code ?}, {@code &}
   * or {@code ;}, also {@code sslpassword} and the like) and the password of {@code user:password@}
   * are removed. Safe to log.
   */
  public String displayUrl() {
    return displayUrl;
  }

  /** The settings the storage was opened with. */
  public StorageSettings settings() {
    return settings;
  }

  /**
   * Creates {@code schema}'s tables if its version is not yet recorded in {@code troupe_schema}
   * (see {@link StorageSchema}); for schemas registered in code rather than through {@link
   * java.util.ServiceLoader}. Blocks while it talks to the database. Does nothing when {@code
   * troupe.storage.create-tables = off}: the tables are then managed outside Troupe.
   *
   * @throws IllegalArgumentException if {@code schema} is null or its name or version is invalid
   * @throws IllegalStateException if the storage is closed
   * @throws StorageException if a statement fails
   */
  public void ensureSchema(StorageSchema schema) {
    SchemaInstaller.validate(schema);
    requireState(!isClosed(), "Storage [" + displayUrl + "] is closed");
    if (settings.createTables() && !installer.apply(List.of(schema)).isEmpty()) {
      log.info(
          "Storage [{}]: applied schema [{}] v{}", displayUrl, schema.name(), schema.version());
    }
  }

  /** Work on one connection: the statements of {@link #inTransaction}. */
  @FunctionalInterface
  public interface SqlWork<T> {
    /** Runs the statements on {@code c}. */
    T run(Connection c) throws SQLException;
  }

  /**
   * Runs {@code work} in one transaction on a pooled connection: commits if it returns, rolls back
   * if it throws.
   *
   * @param what what the work does, for the error ("renew the leases of [x]")
   * @throws StorageException naming {@code what} and {@link #displayUrl()} if a statement fails
   */
  public <T> T inTransaction(String what, SqlWork<T> work) {
    long start = System.nanoTime();
    boolean ok = false;
    try (Connection c = dataSource().getConnection()) {
      c.setAutoCommit(false);
      try {
        T result = work.run(c);
        c.commit();
        ok = true;
        return result;
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      } finally {
        c.setAutoCommit(true);
      }
    } catch (SQLException e) {
      throw new StorageException(
          "Cannot " + what + " on [" + displayUrl + "]: " + e.getMessage(), e);
    } finally {
      (ok ? statementsOk : statementsFailed)
          .record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
    }
  }

  /**
   * The registry this storage's meters are on: the node's for {@link #get(ActorSystem)}, the one
   * given to {@link #create(StorageSettings, MeterRegistry)}, otherwise one that records nothing.
   * Troupe's lock registries on this storage put their meters ({@code troupe.lock.*}) here too.
   */
  public MeterRegistry meterRegistry() {
    return meterRegistry;
  }

  /**
   * Opens a connection outside the pool, with the storage's URL and credentials and {@code extra}
   * driver properties (for example {@code ApplicationName} or {@code socketTimeout}); the caller
   * closes it. For sessions that must stay with one owner, such as PostgreSQL advisory locks.
   *
   * @throws IllegalArgumentException if {@code extra} is null
   * @throws SQLException if the database refuses the connection; the message names {@link
   *     #displayUrl()}, never the password
   */
  public Connection openDedicatedConnection(java.util.Properties extra) throws SQLException {
    requireNonNull(extra, "extra");
    java.util.Properties props = new java.util.Properties();
    props.putAll(extra);
    if (!settings.user().isEmpty()) {
      props.setProperty("user", settings.user());
    }
    if (!settings.password().isEmpty()) {
      props.setProperty("password", settings.password());
    }
    List<String> secrets = new ArrayList<>(JdbcUrls.secrets(settings.url()));
    JdbcUrls.addIfPresent(secrets, settings.password());
    try {
      return DriverManager.getConnection(settings.url(), props);
    } catch (SQLException e) {
      throw new SQLException(
          "Cannot connect to [" + displayUrl + "]: " + JdbcUrls.scrub(e.getMessage(), secrets),
          e.getSQLState(),
          e.getErrorCode());
    }
  }

  /** Whether {@link #close()} has been called. */
  public boolean isClosed() {
    return dataSource.isClosed();
  }

  /** Closes the pool and its connections; idempotent. */
  @Override
  public void close() {
    if (!dataSource.isClosed()) {
      dataSource.close();
      log.debug("Storage [{}] closed", displayUrl);
    }
  }

  @Override
  public String toString() {
    return "Storage(" + displayUrl + ", " + dialect + ")";
  }
}
