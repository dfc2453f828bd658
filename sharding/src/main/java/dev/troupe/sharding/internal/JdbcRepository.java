package dev.troupe.sharding.internal;

import static dev.troupe.core.Preconditions.requireArgument;
import static dev.troupe.core.Preconditions.requireNonBlank;
import static dev.troupe.core.Preconditions.requireNonNull;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.datatype.jdk8.Jdk8Module;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import com.fasterxml.jackson.module.paramnames.ParameterNamesModule;
import dev.troupe.core.storage.Namespaces;
import dev.troupe.core.storage.Storage;
import dev.troupe.core.storage.StorageException;
import dev.troupe.sharding.Repository;
import dev.troupe.sharding.VersionConflictException;
import dev.troupe.sharding.Versioned;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * INTERNAL API. A {@link Repository} on the table {@code troupe_fleet_state} of a {@link Storage}
 * (see {@link FleetSchema}), with JSON values and optimistic versions.
 */
public final class JdbcRepository<V> implements Repository<V> {
  /*
   * Design notes.
   *
   * Namespaces: every statement names the namespace, the repository and (but for the key listings)
   * the key, which together are the primary key (namespace, repo, state_key); the listings fix
   * namespace and repo by equality and ORDER BY state_key, so they read one range of that index in
   * order (no sort) and the cursor of keysAfter seeks into it. Rows of other namespaces (another
   * cluster on the same database) are never read, written, deleted or listed. The namespace is
   * validated once, in create.
   *
   * Versions: a row's version is 1 when it is inserted and one more with every update. save(k, v,
   * 0) is a plain INSERT; the primary key turns a concurrent or earlier creation into a unique
   * violation (SQLState class 23), reported as a conflict with the version then stored. save(k, v,
   * n > 0) is UPDATE ... SET version = n + 1 ... WHERE version = n: the database compares and sets
   * in one statement, so of two writers that read version n exactly one wins, without locks or
   * transactions spanning a round trip. Zero rows updated means the version moved (or the key is
   * gone); a second read names the version found, for the exception only. Each statement runs in
   * auto-commit mode on its own pooled connection. A key that is deleted and created again starts
   * over at version 1.
   *
   * Conflict after a unique violation: if the row is deleted again before the version is read, the
   * insert is retried (at most MAX_INSERT_ATTEMPTS times), so a caller never sees a conflict that
   * says "absent, expected new".
   *
   * JSON: one ObjectMapper for every repository (thread-safe once configured), with the modules
   * pekko-serialization-jackson brings along (java.time, Optional, constructor parameter names;
   * records need none in Jackson 2.21). Dates are ISO-8601 strings, so stored values stay readable
   * and keep nanoseconds; unknown properties are ignored, so a value type may drop a field and
   * still read old rows.
   *
   * Failures: invalid input is an IllegalArgumentException naming the value, before any SQL; an
   * SQLException becomes a StorageException naming the repository, its namespace, the key and the
   * storage's displayUrl (never the password); JSON that cannot be written or read is an
   * IllegalArgumentException naming repository, key and type.
   */

  /** Longest repository name: the width of column {@code repo}. */
  static final int MAX_NAME_LENGTH = 200;

  /** Longest key: the width of column {@code state_key}. */
  static final int MAX_KEY_LENGTH = 500;

  private static final int MAX_INSERT_ATTEMPTS = 3;

  private static final ObjectMapper MAPPER =
      JsonMapper.builder()
          .addModule(new Jdk8Module())
          .addModule(new JavaTimeModule())
          .addModule(new ParameterNamesModule())
          .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
          .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
          .build();

  private static final String TABLE = FleetSchema.TABLE;
  private static final String WHERE_KEY = " WHERE namespace = ? AND repo = ? AND state_key = ?";
  private static final String SELECT = "SELECT version, state_value FROM " + TABLE + WHERE_KEY;
  private static final String SELECT_VERSION = "SELECT version FROM " + TABLE + WHERE_KEY;
  private static final String INSERT =
      "INSERT INTO "
          + TABLE
          + " (namespace, repo, state_key, version, state_value, updated_at)"
          + " VALUES (?, ?, ?, 1, ?, LOCALTIMESTAMP)";
  private static final String UPDATE =
      "UPDATE "
          + TABLE
          + " SET version = ?, state_value = ?, updated_at = LOCALTIMESTAMP"
          + WHERE_KEY
          + " AND version = ?";
  private static final String DELETE = "DELETE FROM " + TABLE + WHERE_KEY;
  private static final String KEYS =
      "SELECT state_key FROM "
          + TABLE
          + " WHERE namespace = ? AND repo = ?"
          + " ORDER BY state_key OFFSET ? ROWS FETCH NEXT ? ROWS ONLY";
  private static final String KEYS_FIRST =
      "SELECT state_key FROM "
          + TABLE
          + " WHERE namespace = ? AND repo = ? ORDER BY state_key FETCH FIRST ? ROWS ONLY";
  private static final String KEYS_AFTER =
      "SELECT state_key FROM "
          + TABLE
          + " WHERE namespace = ? AND repo = ? AND state_key > ?"
          + " ORDER BY state_key FETCH FIRST ? ROWS ONLY";

  private final Storage storage;
  private final String namespace;
  private final String name;
  private final Class<V> type;

  private JdbcRepository(Storage storage, String namespace, String name, Class<V> type) {
    this.storage = storage;
    this.namespace = namespace;
    this.name = name;
    this.type = type;
  }

  /**
   * The repository {@code name} of {@code type} values on {@code storage} in namespace {@value
   * Namespaces#DEFAULT}; see {@link #create(Storage, String, String, Class)}.
   */
  public static <V> JdbcRepository<V> create(Storage storage, String name, Class<V> type) {
    return create(storage, Namespaces.DEFAULT, name, type);
  }

  /**
   * The repository {@code name} of {@code type} values on {@code storage} in {@code namespace}: it
   * reads, writes and lists only the rows of that namespace. Creates the table if {@code storage}
   * was opened before this module was on the class path.
   *
   * @throws IllegalArgumentException if an argument is null, {@code namespace} is not a valid
   *     namespace (see {@link Namespaces#requireValid}), or {@code name} is blank or longer than
   *     200 characters
   * @throws IllegalStateException if {@code storage} is closed
   * @throws StorageException if the table cannot be created
   */
  public static <V> JdbcRepository<V> create(
      Storage storage, String namespace, String name, Class<V> type) {
    requireNonNull(storage, "storage");
    Namespaces.requireValid(namespace, "namespace");
    requireNonBlank(name, "Repository name");
    requireArgument(
        name.length() <= MAX_NAME_LENGTH,
        "Repository name must be at most "
            + MAX_NAME_LENGTH
            + " characters, got "
            + name.length()
            + ": ["
            + abbreviate(name)
            + "]");
    requireNonNull(type, "Repository [" + name + "]: type");
    storage.ensureSchema(new FleetSchema());
    return new JdbcRepository<>(storage, namespace, name, type);
  }

  @Override
  public String name() {
    return name;
  }

  /** The namespace whose rows this repository reads and writes, as given to {@link #create}. */
  public String namespace() {
    return namespace;
  }

  /** The class of the values, as given to {@link #create}. */
  public Class<V> type() {
    return type;
  }

  @Override
  public Optional<Versioned<V>> load(String key) {
    checkKey(key);
    String json;
    long version;
    try (Connection c = storage.dataSource().getConnection();
        PreparedStatement s = c.prepareStatement(SELECT)) {
      bindKey(s, 1, key);
      try (ResultSet rs = s.executeQuery()) {
        if (!rs.next()) {
          return Optional.empty();
        }
        version = rs.getLong(1);
        json = rs.getString(2);
      }
    } catch (SQLException e) {
      throw failure("cannot load key [" + key + "]", e);
    }
    return Optional.of(new Versioned<>(fromJson(key, json), version));
  }

  @Override
  public Versioned<V> save(String key, V value, long expectedVersion) {
    checkKey(key);
    requireNonNull(value, "Repository [" + name + "]: value of key [" + key + "]");
    requireArgument(
        expectedVersion >= 0,
        "Repository ["
            + name
            + "]: expectedVersion of key ["
            + key
            + "] must be >= 0, got: "
            + expectedVersion);
    String json = toJson(key, value);
    try {
      if (expectedVersion == 0) {
        insert(key, json);
        return new Versioned<>(value, 1);
      }
      long next = expectedVersion + 1;
      if (update(key, json, expectedVersion, next)) {
        return new Versioned<>(value, next);
      }
      throw new VersionConflictException(name, key, expectedVersion, storedVersion(key));
    } catch (SQLException e) {
      throw failure("cannot save key [" + key + "]", e);
    }
  }

  private void insert(String key, String json) throws SQLException {
    for (int attempt = 1; ; attempt++) {
      try (Connection c = storage.dataSource().getConnection();
          PreparedStatement s = c.prepareStatement(INSERT)) {
        bindKey(s, 1, key);
        s.setString(4, json);
        s.executeUpdate();
        return;
      } catch (SQLException e) {
        if (!StorageException.isConstraintViolation(e)) {
          throw e;
        }
      }
      long actual = storedVersion(key);
      if (actual != 0 || attempt >= MAX_INSERT_ATTEMPTS) {
        throw new VersionConflictException(name, key, 0, actual);
      }
      // Deleted again in between: the key is new after all; try once more.
    }
  }

  private boolean update(String key, String json, long expected, long next) throws SQLException {
    try (Connection c = storage.dataSource().getConnection();
        PreparedStatement s = c.prepareStatement(UPDATE)) {
      s.setLong(1, next);
      s.setString(2, json);
      bindKey(s, 3, key);
      s.setLong(6, expected);
      return s.executeUpdate() == 1;
    }
  }

  /** The stored version of {@code key}, 0 if absent. */
  private long storedVersion(String key) throws SQLException {
    try (Connection c = storage.dataSource().getConnection();
        PreparedStatement s = c.prepareStatement(SELECT_VERSION)) {
      bindKey(s, 1, key);
      try (ResultSet rs = s.executeQuery()) {
        return rs.next() ? rs.getLong(1) : 0;
      }
    }
  }

  @Override
  public boolean delete(String key) {
    checkKey(key);
    try (Connection c = storage.dataSource().getConnection();
        PreparedStatement s = c.prepareStatement(DELETE)) {
      bindKey(s, 1, key);
      return s.executeUpdate() > 0;
    } catch (SQLException e) {
      throw failure("cannot delete key [" + key + "]", e);
    }
  }

  @Override
  public List<String> keys(int offset, int limit) {
    requireArgument(offset >= 0, "Repository [" + name + "]: offset must be >= 0, got: " + offset);
    checkLimit(limit);
    try (Connection c = storage.dataSource().getConnection();
        PreparedStatement s = c.prepareStatement(KEYS)) {
      bindRepository(s, 1);
      s.setInt(3, offset);
      s.setInt(4, limit);
      return readKeys(s);
    } catch (SQLException e) {
      throw failure("cannot list keys from position " + offset, e);
    }
  }

  @Override
  public List<String> keysAfter(String afterKey, int limit) {
    checkLimit(limit);
    try (Connection c = storage.dataSource().getConnection();
        PreparedStatement s = c.prepareStatement(afterKey == null ? KEYS_FIRST : KEYS_AFTER)) {
      bindRepository(s, 1);
      if (afterKey == null) {
        s.setInt(3, limit);
      } else {
        s.setString(3, afterKey);
        s.setInt(4, limit);
      }
      return readKeys(s);
    } catch (SQLException e) {
      throw failure(
          "cannot list keys after " + (afterKey == null ? "the start" : "[" + afterKey + "]"), e);
    }
  }

  /** Sets parameters {@code first} and {@code first + 1}: this repository's namespace and name. */
  private void bindRepository(PreparedStatement s, int first) throws SQLException {
    s.setString(first, namespace);
    s.setString(first + 1, name);
  }

  /** Sets parameters {@code first} to {@code first + 2}: namespace, name and {@code key}. */
  private void bindKey(PreparedStatement s, int first, String key) throws SQLException {
    bindRepository(s, first);
    s.setString(first + 2, key);
  }

  private static List<String> readKeys(PreparedStatement s) throws SQLException {
    List<String> keys = new ArrayList<>();
    try (ResultSet rs = s.executeQuery()) {
      while (rs.next()) {
        keys.add(rs.getString(1));
      }
    }
    return List.copyOf(keys);
  }

  private void checkKey(String key) {
    requireNonNull(key, "Repository [" + name + "]: key");
    requireArgument(!key.isEmpty(), "Repository [" + name + "]: key must not be empty");
    requireArgument(
        key.length() <= MAX_KEY_LENGTH,
        "Repository ["
            + name
            + "]: key must be at most "
            + MAX_KEY_LENGTH
            + " characters, got "
            + key.length()
            + ": ["
            + abbreviate(key)
            + "]");
  }

  private void checkLimit(int limit) {
    requireArgument(limit > 0, "Repository [" + name + "]: limit must be > 0, got: " + limit);
  }

  private String toJson(String key, V value) {
    try {
      return MAPPER.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(
          "Repository ["
              + name
              + "]: cannot write the value of key ["
              + key
              + "] ("
              + value.getClass().getName()
              + ") as JSON: "
              + e.getOriginalMessage(),
          e);
    }
  }

  private V fromJson(String key, String json) {
    try {
      return MAPPER.readValue(json, type);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(
          "Repository ["
              + name
              + "]: cannot read the stored value of key ["
              + key
              + "] as "
              + type.getName()
              + ": "
              + e.getOriginalMessage(),
          e);
    }
  }

  private StorageException failure(String what, SQLException e) {
    return new StorageException(
        "Repository ["
            + name
            + "] in namespace ["
            + namespace
            + "] on ["
            + storage.displayUrl()
            + "]: "
            + what
            + ": "
            + e.getMessage(),
        e);
  }

  private static String abbreviate(String s) {
    return s.length() <= 40 ? s : s.substring(0, 40) + "...";
  }

  @Override
  public String toString() {
    return "JdbcRepository("
        + namespace
        + ", "
        + name
        + ", "
        + type.getName()
        + ", "
        + storage.displayUrl()
        + ")";
  }
}
