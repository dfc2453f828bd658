package dev.troupe.daemons;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.troupe.daemons.internal.DaemonArgs;
import java.util.List;

/**
 * A daemon to run: its unique name, its arguments, and — for a running instance — its epoch.
 *
 * <p>Arguments travel between nodes as JSON, never with class names: a daemon receives them as JSON
 * values (strings, numbers, booleans, {@code List}s and {@code Map}s); {@link #arg(int, Class)}
 * converts one back to a type, such as a record.
 *
 * <p>The <b>epoch</b> is a fencing token from Troupe's lock layer ({@code troupe_lock_epoch}, name
 * {@code daemon:<name>}): it grows every time the daemon is placed, so a later instance always has
 * a larger one. A daemon that writes outside the cluster should check it in the same transaction
 * ({@code JdbcLockRegistry.requireCurrentToken(connection, namespace, "daemon:" + name, epoch)}),
 * so the writes of an old instance on a paused or cut-off node are refused.
 *
 * @param name the daemon's name, unique in the cluster: a {@linkplain dev.troupe.core.Names name}
 *     ({@value dev.troupe.core.Names#RULE}); a scanned spec with another name is skipped, with a
 *     warning that names the value and the rule
 * @param args its arguments, as JSON values
 * @param epoch the instance's epoch; 0 in specs a {@link RecoveryScanner} yields
 * @since 0.1.0
 */
public record DaemonSpec(String name, List<Object> args, long epoch) {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  /** Copies the arguments. */
  public DaemonSpec {
    args = args == null ? List.of() : DaemonArgs.normalize(name, args);
  }

  /** A spec of {@code name} with {@code args}, for scanners. */
  public static DaemonSpec of(String name, Object... args) {
    return new DaemonSpec(name, List.of(args), 0);
  }

  /**
   * Argument {@code index} converted to {@code type} with Jackson.
   *
   * @throws IllegalArgumentException if there is no such argument or it does not convert
   */
  public <T> T arg(int index, Class<T> type) {
    if (index < 0 || index >= args.size()) {
      throw new IllegalArgumentException(
          "daemon [" + name + "] has " + args.size() + " argument(s), no index " + index);
    }
    try {
      return MAPPER.treeToValue(MAPPER.valueToTree(args.get(index)), type);
    } catch (JsonProcessingException | IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "argument " + index + " of daemon [" + name + "] is not a " + type.getName(), e);
    }
  }

  /** This spec with {@code newEpoch}. */
  public DaemonSpec withEpoch(long newEpoch) {
    return new DaemonSpec(name, args, newEpoch);
  }
}
