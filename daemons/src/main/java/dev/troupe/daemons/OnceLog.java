package dev.troupe.daemons;

import static dev.troupe.core.Preconditions.requireArgument;
import static dev.troupe.core.Preconditions.requireNonBlank;
import static dev.troupe.core.Preconditions.requireNonNegative;
import static dev.troupe.core.Preconditions.requireNonNull;

import dev.troupe.core.storage.Namespaces;
import dev.troupe.core.storage.Storage;
import dev.troupe.core.storage.StorageException;
import dev.troupe.daemons.internal.DaemonSchema;
import java.lang.management.ManagementFactory;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.ForkJoinPool;
import java.util.function.Supplier;

/**
 * At-most-once side effects across the cluster: {@link #runOnce} runs an action for an item key
 * only if no node has run it (or is running it) before, and records who did.
 *
 * <pre>{@code
 * OnceLog log = OnceLog.create(Storage.get(system));
 * log.runOnce("invoice-2026-11-0042", () -> mailer.send(invoice))   // true: it ran here
 *     .thenAccept(ran -> ...);                                      // false: ran (or runs) elsewhere
 * }</pre>
 *
 * <p>Each item is a row of {@code troupe_once_log} (primary key: namespace and item key; see {@link
 * #withNamespace}), claimed in one insert before the action starts: of several callers, exactly one
 * inserts it and runs the action; the others get {@code false}. The row records the node, the
 * attempt ("token") and the outcome: {@code running}, then {@code done} or {@code failed}.
 *
 * <p><b>A crash mid-action</b> leaves the row {@code running}: the side effect may or may not have
 * happened. The {@link Policy} decides: {@link Policy#LEAVE} (the default) never runs the item
 * again — strict at-most-once; an operator looks at the row — while {@link Policy#RETRY_AFTER} lets
 * a later {@code runOnce} take the item over once the row is older than the timeout (at least once,
 * for actions that are safe to repeat). A {@code failed} action (its stage failed) may be run again
 * by a later call under both policies, since it is known not to have completed.
 *
 * @since 0.1.0
 */
public final class OnceLog {
  /** What a later call does with an item whose action started but never finished. */
  public enum Policy {
    /** Never run it again: strict at-most-once. */
    LEAVE,
    /** Take it over once it has been running longer than the timeout: at-least-once. */
    RETRY_AFTER
  }

  private final Storage storage;
  private final String namespace;
  private final Policy policy;
  private final Duration timeout;
  private final String node;
  private final Executor executor;

  private OnceLog(
      Storage storage,
      String namespace,
      Policy policy,
      Duration timeout,
      String node,
      Executor executor) {
    this.storage = storage;
    this.namespace = namespace;
    this.policy = policy;
    this.timeout = timeout;
    this.node = node;
    this.executor = executor;
  }

  /**
   * A log on {@code storage} with policy {@link Policy#LEAVE}; its table is created if missing.
   *
   * @throws IllegalArgumentException if {@code storage} is null
   */
  public static OnceLog create(Storage storage) {
    return create(storage, Policy.LEAVE, Duration.ZERO);
  }

  /**
   * A log on {@code storage} with {@code policy}; {@code inProgressTimeout} is how old a {@code
   * running} row must be before {@link Policy#RETRY_AFTER} takes it over.
   *
   * @throws IllegalArgumentException if an argument is null, the timeout negative, or zero with
   *     {@link Policy#RETRY_AFTER}
   */
  public static OnceLog create(Storage storage, Policy policy, Duration inProgressTimeout) {
    requireNonNull(storage, "storage");
    requireNonNull(policy, "policy");
    requireNonNegative(inProgressTimeout, "inProgressTimeout");
    requireArgument(
        policy != Policy.RETRY_AFTER || !inProgressTimeout.isZero(),
        "Policy.RETRY_AFTER needs a positive inProgressTimeout, got: " + inProgressTimeout);
    storage.ensureSchema(new DaemonSchema());
    return new OnceLog(
        storage,
        Namespaces.DEFAULT,
        policy,
        inProgressTimeout,
        ManagementFactory.getRuntimeMXBean().getName(),
        ForkJoinPool.commonPool());
  }

  /**
   * This log in {@code namespace} (default {@value Namespaces#DEFAULT}): item keys of another
   * namespace on the same database are other items. A node's namespace is {@link
   * dev.troupe.core.TroupeNode#namespace()}.
   *
   * @throws IllegalArgumentException if {@code namespace} is not a valid namespace, naming it
   */
  public OnceLog withNamespace(String namespace) {
    Namespaces.requireValid(namespace, "namespace");
    return new OnceLog(storage, namespace, policy, timeout, node, executor);
  }

  /** This log, recording {@code nodeName} as the executing node (default: pid@host). */
  public OnceLog withNode(String nodeName) {
    requireNonBlank(nodeName, "node name");
    return new OnceLog(storage, namespace, policy, timeout, nodeName, executor);
  }

  /** This log, claiming items on {@code blockingExecutor} (default: the common pool). */
  public OnceLog withExecutor(Executor blockingExecutor) {
    requireNonNull(blockingExecutor, "executor");
    return new OnceLog(storage, namespace, policy, timeout, node, blockingExecutor);
  }

  /**
   * Runs {@code action} for {@code itemKey} unless some node ran or runs it.
   *
   * @return a stage completed with {@code true} once the action ran here and completed, {@code
   *     false} if it was not run here; failed with the action's failure (the item is then {@code
   *     failed}) or a {@link StorageException}
   * @throws IllegalArgumentException if an argument is null or {@code itemKey} blank or longer than
   *     500 characters
   */
  public CompletionStage<Boolean> runOnce(String itemKey, Supplier<CompletionStage<?>> action) {
    requireNonBlank(itemKey, "item key");
    requireArgument(
        itemKey.length() <= 500,
        "item key must be at most 500 characters, got " + itemKey.length());
    requireNonNull(action, "action");
    return CompletableFuture.supplyAsync(() -> claim(itemKey), executor)
        .thenCompose(
            token -> {
              if (token.isEmpty()) {
                return CompletableFuture.completedFuture(false);
              }
              CompletionStage<?> ran;
              try {
                ran = action.get();
              } catch (RuntimeException e) {
                ran = CompletableFuture.failedFuture(e);
              }
              return ran.handle(
                      (ok, failure) -> {
                        finish(itemKey, token.get(), failure);
                        if (failure != null) {
                          throw new java.util.concurrent.CompletionException(failure);
                        }
                        return true;
                      })
                  .toCompletableFuture();
            });
  }

  /**
   * The state of {@code itemKey}: {@code running}, {@code done} or {@code failed}; empty if new.
   */
  public Optional<String> state(String itemKey) {
    requireNonBlank(itemKey, "item key");
    try (Connection c = storage.dataSource().getConnection();
        PreparedStatement s =
            c.prepareStatement(
                "SELECT state FROM troupe_once_log WHERE namespace = ? AND item_key = ?")) {
      s.setString(1, namespace);
      s.setString(2, itemKey);
      try (ResultSet rs = s.executeQuery()) {
        return rs.next() ? Optional.of(rs.getString(1)) : Optional.empty();
      }
    } catch (SQLException e) {
      throw failure("read item [" + itemKey + "]", e);
    }
  }

  /** Claims the item; returns the attempt token if this call may run it. */
  private Optional<Long> claim(String itemKey) {
    try (Connection c = storage.dataSource().getConnection()) {
      c.setAutoCommit(true);
      try (PreparedStatement insert =
          c.prepareStatement(
              "INSERT INTO troupe_once_log (namespace, item_key, state, node, token, started_at)"
                  + " VALUES (?, ?, 'running', ?, 1, LOCALTIMESTAMP)")) {
        insert.setString(1, namespace);
        insert.setString(2, itemKey);
        insert.setString(3, node);
        insert.executeUpdate();
        return Optional.of(1L);
      } catch (SQLException e) {
        if (!StorageException.isConstraintViolation(e)) {
          throw e;
        }
      }
      // The item exists: take it over only if it failed, or ran too long under RETRY_AFTER.
      try (PreparedStatement select =
          c.prepareStatement(
              "SELECT state, token, started_at FROM troupe_once_log"
                  + " WHERE namespace = ? AND item_key = ?")) {
        select.setString(1, namespace);
        select.setString(2, itemKey);
        try (ResultSet rs = select.executeQuery()) {
          if (!rs.next()) {
            return Optional.empty();
          }
          String state = rs.getString(1);
          long token = rs.getLong(2);
          Timestamp started = rs.getTimestamp(3);
          boolean takeOver =
              state.equals("failed")
                  || (state.equals("running")
                      && policy == Policy.RETRY_AFTER
                      && startedBefore(c, started));
          if (!takeOver) {
            return Optional.empty();
          }
          try (PreparedStatement update =
              c.prepareStatement(
                  "UPDATE troupe_once_log SET state = 'running', node = ?, token = ?,"
                      + " started_at = LOCALTIMESTAMP, finished_at = NULL, detail = NULL"
                      + " WHERE namespace = ? AND item_key = ? AND token = ? AND state = ?")) {
            update.setString(1, node);
            update.setLong(2, token + 1);
            update.setString(3, namespace);
            update.setString(4, itemKey);
            update.setLong(5, token);
            update.setString(6, state);
            return update.executeUpdate() == 1 ? Optional.of(token + 1) : Optional.empty();
          }
        }
      }
    } catch (SQLException e) {
      throw failure("claim item [" + itemKey + "]", e);
    }
  }

  /** Whether {@code started} (database time) is older than the in-progress timeout. */
  private boolean startedBefore(Connection c, Timestamp started) throws SQLException {
    try (PreparedStatement now = c.prepareStatement("SELECT LOCALTIMESTAMP");
        ResultSet rs = now.executeQuery()) {
      rs.next();
      return rs.getTimestamp(1).getTime() - started.getTime() >= timeout.toMillis();
    }
  }

  private void finish(String itemKey, long token, Throwable failure) {
    try (Connection c = storage.dataSource().getConnection();
        PreparedStatement update =
            c.prepareStatement(
                "UPDATE troupe_once_log SET state = ?, finished_at = LOCALTIMESTAMP, detail = ?"
                    + " WHERE namespace = ? AND item_key = ? AND token = ?")) {
      update.setString(1, failure == null ? "done" : "failed");
      update.setString(
          2, failure == null ? null : truncate(String.valueOf(failure.getMessage()), 1000));
      update.setString(3, namespace);
      update.setString(4, itemKey);
      update.setLong(5, token);
      update.executeUpdate();
    } catch (SQLException e) {
      throw failure("record the outcome of item [" + itemKey + "]", e);
    }
  }

  private static String truncate(String s, int max) {
    return s.length() <= max ? s : s.substring(0, max);
  }

  private StorageException failure(String what, SQLException e) {
    return new StorageException(
        "OnceLog: cannot " + what + " on [" + storage.displayUrl() + "]: " + e.getMessage(), e);
  }
}
