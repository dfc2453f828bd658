package dev.troupe.core.storage;

import dev.troupe.core.TroupeNode;
import dev.troupe.core.lock.JdbcLockRegistry;
import dev.troupe.testkit.ChildNode;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A child node JVM for the session-fencing test: {@link ChildNode} plus {@code hold-row <id>},
 * which raises the fencing token of {@code id} in a transaction of the node's own storage pool and
 * leaves that transaction open (holding the row lock), then prints {@code TROUPE-HOLDING <id>
 * <token>} with the token committed before it.
 */
public final class FencingChildNode {
  /** Open transactions, kept from the garbage collector until the process ends. */
  private static final List<Connection> OPEN = new CopyOnWriteArrayList<>();

  private FencingChildNode() {}

  public static void main(String[] args) throws Exception {
    ChildNode.run(args, Map.of("hold-row", FencingChildNode::holdRow));
  }

  private static void holdRow(TroupeNode node, String id) throws Exception {
    Storage storage = Storage.get(node.system());
    String namespace = node.system().settings().config().getString("troupe.lock.namespace");
    long committed = JdbcLockRegistry.nextToken(storage, namespace, id);
    Connection c = storage.dataSource().getConnection();
    OPEN.add(c);
    c.setAutoCommit(false);
    try (PreparedStatement raise =
        c.prepareStatement("UPDATE troupe_lock_epoch SET epoch = epoch + 1 WHERE name = ?")) {
      raise.setString(1, namespace + ":" + id);
      raise.executeUpdate();
    }
    ChildNode.emit("HOLDING", id, Long.toString(committed));
  }
}
