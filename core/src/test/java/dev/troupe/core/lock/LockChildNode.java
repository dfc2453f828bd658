package dev.troupe.core.lock;

import dev.troupe.core.TroupeNode;
import dev.troupe.core.storage.Storage;
import dev.troupe.testkit.ChildNode;
import java.util.Map;

/**
 * A child node JVM for lock fault tests: {@link ChildNode} plus two commands.
 *
 * <ul>
 *   <li>{@code hold <jdbc-url> <id>}: takes lock {@code id} with a registry of its own on {@code
 *       jdbc-url} (settings from the node's configuration), waiting as long as it takes, then
 *       prints {@code TROUPE-LOCKED <id> <token>};
 *   <li>{@code node-lock <id>}: the same with the node's registry ({@code
 *       JdbcLockRegistry.get(system)}, on {@code troupe.storage}, fencing removed members).
 * </ul>
 *
 * <p>Locks are never released: the tests end the process.
 */
public final class LockChildNode {
  private LockChildNode() {}

  public static void main(String[] args) throws Exception {
    ChildNode.run(args, Map.of("hold", LockChildNode::hold, "node-lock", LockChildNode::nodeLock));
  }

  private static void hold(TroupeNode node, String argument) {
    String[] parts = argument.split(" ");
    JdbcLockRegistry registry =
        JdbcLockRegistry.create(
            Storage.fromUrl(parts[0]),
            "child-" + node.name(),
            LockSettings.fromConfig(node.system().settings().config()));
    report(registry, parts[1]);
  }

  private static void nodeLock(TroupeNode node, String id) {
    report(JdbcLockRegistry.get(node.system()), id);
  }

  private static void report(LockRegistry registry, String id) {
    registry
        .acquire(id)
        .thenAccept(
            lock -> {
              ChildNode.emit("LOCKED", id, Long.toString(lock.fencingToken()));
              lock.onLost(() -> ChildNode.emit("LOST", id));
            });
  }
}
