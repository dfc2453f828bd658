package dev.troupe.core.storage;

import static dev.troupe.core.Preconditions.requireArgument;
import static dev.troupe.core.Preconditions.requireNonBlank;
import static dev.troupe.core.Preconditions.requireNonNull;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.troupe.core.storage.internal.JdbcUrls;
import java.time.Duration;
import org.apache.pekko.actor.typed.ActorSystem;

/**
 * Immutable settings of a {@link Storage}, read from {@code troupe.storage} (core's {@code
 * reference.conf} documents every key and holds the defaults).
 *
 * <pre>{@code
 * StorageSettings settings =
 *     StorageSettings.create(system)
 *         .withUrl("jdbc:postgresql://db:5432/troupe")
 *         .withUser("troupe")
 *         .withPassword(System.getenv("TROUPE_DB_PASSWORD"))
 *         .withMaximumPoolSize(20);
 * }</pre>
 *
 * <p>Every instance is validated on construction: a bad value throws {@link
 * IllegalArgumentException} naming the full key and the value, for example {@code
 * troupe.storage.maximum-pool-size must be >= 1, got: 0}. {@link #toString()} never shows the
 * password.
 *
 * @since 0.1.0
 */
public final class StorageSettings {
  private static final String PREFIX = "troupe.storage.";
  private static final Duration MINIMUM_TIMEOUT = Duration.ofMillis(250);

  private final String url;
  private final String user;
  private final String password;
  private final int maximumPoolSize;
  private final int minimumIdle;
  private final Duration connectionTimeout;
  private final Duration validationTimeout;
  private final boolean createTables;
  private final Duration schemaLockTimeout;
  private final Duration socketTimeout;

  private StorageSettings(
      String url,
      String user,
      String password,
      int maximumPoolSize,
      int minimumIdle,
      Duration connectionTimeout,
      Duration validationTimeout,
      boolean createTables,
      Duration schemaLockTimeout,
      Duration socketTimeout) {
    this.url = requireNonBlank(url, PREFIX + "url");
    this.user = requireNonNull(user, PREFIX + "user");
    this.password = requireNonNull(password, PREFIX + "password");
    requireArgument(
        maximumPoolSize >= 1, PREFIX + "maximum-pool-size must be >= 1, got: " + maximumPoolSize);
    this.maximumPoolSize = maximumPoolSize;
    requireArgument(minimumIdle >= 0, PREFIX + "minimum-idle must be >= 0, got: " + minimumIdle);
    this.minimumIdle = minimumIdle;
    this.connectionTimeout = requireAtLeast250ms(connectionTimeout, "connection-timeout");
    this.validationTimeout = requireAtLeast250ms(validationTimeout, "validation-timeout");
    this.createTables = createTables;
    requireNonNull(schemaLockTimeout, PREFIX + "schema-lock-timeout");
    requireArgument(
        schemaLockTimeout.toMillis() >= 1,
        PREFIX + "schema-lock-timeout must be >= 1ms, got: " + schemaLockTimeout.toMillis() + "ms");
    this.schemaLockTimeout = schemaLockTimeout;
    requireNonNull(socketTimeout, PREFIX + "socket-timeout");
    requireArgument(
        socketTimeout.isZero() || socketTimeout.compareTo(Duration.ofSeconds(1)) >= 0,
        PREFIX
            + "socket-timeout must be 0 (off) or >= 1s, got: "
            + socketTimeout.toMillis()
            + "ms");
    this.socketTimeout = socketTimeout;
  }

  private static Duration requireAtLeast250ms(Duration value, String key) {
    requireNonNull(value, PREFIX + key);
    requireArgument(
        value.compareTo(MINIMUM_TIMEOUT) >= 0,
        PREFIX + key + " must be >= 250ms, got: " + value.toMillis() + "ms");
    return value;
  }

  /** Reads {@code troupe.storage} from {@code system}'s configuration. */
  public static StorageSettings create(ActorSystem<?> system) {
    requireNonNull(system, "system");
    return fromConfig(system.settings().config().getConfig("troupe.storage"));
  }

  /**
   * The defaults of core's {@code reference.conf} (an embedded H2 file database), without
   * application.conf.
   */
  public static StorageSettings defaults() {
    return fromConfig(ConfigFactory.defaultReference().getConfig("troupe.storage"));
  }

  /**
   * Reads the {@code troupe.storage} section {@code config}; keys it lacks take their defaults from
   * core's {@code reference.conf}.
   *
   * @throws IllegalArgumentException if a value is invalid
   * @throws com.typesafe.config.ConfigException if a value has the wrong type
   */
  public static StorageSettings fromConfig(Config config) {
    requireNonNull(config, "config");
    Config c = config.withFallback(ConfigFactory.defaultReference().getConfig("troupe.storage"));
    return new StorageSettings(
        c.getString("url"),
        c.getString("user"),
        c.getString("password"),
        c.getInt("maximum-pool-size"),
        c.getInt("minimum-idle"),
        c.getDuration("connection-timeout"),
        c.getDuration("validation-timeout"),
        c.getBoolean("create-tables"),
        c.getDuration("schema-lock-timeout"),
        c.getDuration("socket-timeout"));
  }

  /** {@code troupe.storage.url}: the JDBC URL; may carry the user and password. */
  public String url() {
    return url;
  }

  /** {@code troupe.storage.user}; empty when the URL carries it or none is needed. */
  public String user() {
    return user;
  }

  /** {@code troupe.storage.password}; package-private so that it stays out of logs and dumps. */
  String password() {
    return password;
  }

  /** {@code troupe.storage.maximum-pool-size}: the most connections the pool opens. */
  public int maximumPoolSize() {
    return maximumPoolSize;
  }

  /**
   * {@code troupe.storage.minimum-idle}: idle connections the pool keeps; at most {@link
   * #maximumPoolSize()} take effect.
   */
  public int minimumIdle() {
    return minimumIdle;
  }

  /**
   * {@code troupe.storage.connection-timeout}: how long to wait for a connection, also for the
   * first one when the storage starts.
   */
  public Duration connectionTimeout() {
    return connectionTimeout;
  }

  /**
   * {@code troupe.storage.validation-timeout}: how long a connection liveness check may take; at
   * most {@link #connectionTimeout()} takes effect.
   */
  public Duration validationTimeout() {
    return validationTimeout;
  }

  /** {@code troupe.storage.create-tables}: whether schemas are applied. */
  public boolean createTables() {
    return createTables;
  }

  /**
   * {@code troupe.storage.schema-lock-timeout}: on PostgreSQL, how long schema creation waits for
   * another node that is creating or upgrading the tables, and for locks on them.
   */
  public Duration schemaLockTimeout() {
    return schemaLockTimeout;
  }

  /**
   * Returns a copy with {@code troupe.storage.url} set to {@code url}.
   *
   * @throws IllegalArgumentException if {@code url} is null or blank
   */
  public StorageSettings withUrl(String url) {
    return new StorageSettings(
        url,
        user,
        password,
        maximumPoolSize,
        minimumIdle,
        connectionTimeout,
        validationTimeout,
        createTables,
        schemaLockTimeout,
        socketTimeout);
  }

  /**
   * Returns a copy with {@code troupe.storage.user} set to {@code user} (empty for none).
   *
   * @throws IllegalArgumentException if {@code user} is null
   */
  public StorageSettings withUser(String user) {
    return new StorageSettings(
        url,
        user,
        password,
        maximumPoolSize,
        minimumIdle,
        connectionTimeout,
        validationTimeout,
        createTables,
        schemaLockTimeout,
        socketTimeout);
  }

  /**
   * Returns a copy with {@code troupe.storage.password} set to {@code password} (empty for none).
   *
   * @throws IllegalArgumentException if {@code password} is null
   */
  public StorageSettings withPassword(String password) {
    return new StorageSettings(
        url,
        user,
        password,
        maximumPoolSize,
        minimumIdle,
        connectionTimeout,
        validationTimeout,
        createTables,
        schemaLockTimeout,
        socketTimeout);
  }

  /**
   * Returns a copy with {@code troupe.storage.maximum-pool-size} set to {@code size}.
   *
   * @throws IllegalArgumentException if {@code size < 1}
   */
  public StorageSettings withMaximumPoolSize(int size) {
    return new StorageSettings(
        url,
        user,
        password,
        size,
        minimumIdle,
        connectionTimeout,
        validationTimeout,
        createTables,
        schemaLockTimeout,
        socketTimeout);
  }

  /**
   * Returns a copy with {@code troupe.storage.minimum-idle} set to {@code idle}.
   *
   * @throws IllegalArgumentException if {@code idle < 0}
   */
  public StorageSettings withMinimumIdle(int idle) {
    return new StorageSettings(
        url,
        user,
        password,
        maximumPoolSize,
        idle,
        connectionTimeout,
        validationTimeout,
        createTables,
        schemaLockTimeout,
        socketTimeout);
  }

  /**
   * Returns a copy with {@code troupe.storage.connection-timeout} set to {@code timeout}.
   *
   * @throws IllegalArgumentException if {@code timeout} is null or shorter than 250 ms
   */
  public StorageSettings withConnectionTimeout(Duration timeout) {
    return new StorageSettings(
        url,
        user,
        password,
        maximumPoolSize,
        minimumIdle,
        timeout,
        validationTimeout,
        createTables,
        schemaLockTimeout,
        socketTimeout);
  }

  /**
   * Returns a copy with {@code troupe.storage.validation-timeout} set to {@code timeout}.
   *
   * @throws IllegalArgumentException if {@code timeout} is null or shorter than 250 ms
   */
  public StorageSettings withValidationTimeout(Duration timeout) {
    return new StorageSettings(
        url,
        user,
        password,
        maximumPoolSize,
        minimumIdle,
        connectionTimeout,
        timeout,
        createTables,
        schemaLockTimeout,
        socketTimeout);
  }

  /**
   * Returns a copy with {@code troupe.storage.schema-lock-timeout} set to {@code timeout}.
   *
   * @throws IllegalArgumentException if {@code timeout} is null or shorter than 1 ms
   */
  public StorageSettings withSchemaLockTimeout(Duration timeout) {
    return new StorageSettings(
        url,
        user,
        password,
        maximumPoolSize,
        minimumIdle,
        connectionTimeout,
        validationTimeout,
        createTables,
        timeout,
        socketTimeout);
  }

  /**
   * {@code troupe.storage.socket-timeout}: PostgreSQL only, the longest one read from the server
   * may block (pgJDBC's {@code socketTimeout}) before the statement fails and its connection is
   * dropped; zero = off. Bounds how long a statement hangs on a connection whose network path was
   * cut. Ignored when the URL sets {@code socketTimeout} itself.
   */
  public Duration socketTimeout() {
    return socketTimeout;
  }

  /**
   * Returns a copy with {@code troupe.storage.socket-timeout} set to {@code timeout}.
   *
   * @throws IllegalArgumentException if {@code timeout} is null, or neither zero nor at least 1 s
   */
  public StorageSettings withSocketTimeout(Duration timeout) {
    return new StorageSettings(
        url,
        user,
        password,
        maximumPoolSize,
        minimumIdle,
        connectionTimeout,
        validationTimeout,
        createTables,
        schemaLockTimeout,
        timeout);
  }

  /** Returns a copy with {@code troupe.storage.create-tables} set to {@code createTables}. */
  public StorageSettings withCreateTables(boolean createTables) {
    return new StorageSettings(
        url,
        user,
        password,
        maximumPoolSize,
        minimumIdle,
        connectionTimeout,
        validationTimeout,
        createTables,
        schemaLockTimeout,
        socketTimeout);
  }

  /** Shows every setting but the password; the URL with any password removed. */
  @Override
  public String toString() {
    return "StorageSettings(url="
        + JdbcUrls.redact(url)
        + ", user="
        + user
        + ", password="
        + (password.isEmpty() ? "" : "***")
        + ", maximum-pool-size="
        + maximumPoolSize
        + ", minimum-idle="
        + minimumIdle
        + ", connection-timeout="
        + connectionTimeout.toMillis()
        + "ms, validation-timeout="
        + validationTimeout.toMillis()
        + "ms, create-tables="
        + createTables
        + ", schema-lock-timeout="
        + schemaLockTimeout.toMillis()
        + "ms, socket-timeout="
        + socketTimeout.toMillis()
        + "ms)";
  }
}
