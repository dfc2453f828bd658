package dev.troupe.samples.chat;

import dev.troupe.testkit.ChildNode;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.util.Map;

/**
 * A child node JVM for {@link ChatFuzzIT}: {@link ChildNode} plus three commands.
 *
 * <ul>
 *   <li>{@code chat} starts the chat on the node and prints {@code TROUPE-MANAGEMENT <port>} and
 *       {@code TROUPE-CHAT http <port>} (as {@link ChatChildNode} does);
 *   <li>{@code heap} runs a full GC and prints {@code TROUPE-HEAP <used-bytes> <live-threads>};
 *   <li>{@code gateways} prints {@code TROUPE-GATEWAYS <this node's> <all>}: the members of the
 *       {@code chat-gateways} worker group this node's registry lists.
 * </ul>
 */
public final class FuzzChildNode {
  private FuzzChildNode() {}

  public static void main(String[] args) throws Exception {
    ChildNode.run(
        args,
        Map.of(
            "chat",
            (node, argument) -> ChatChildNode.announce(node, ChatChildNode.startChat(node)),
            "heap",
            (node, argument) -> {
              MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
              // Three full collections (the children run the serial collector): what is left is
              // what the node holds on to.
              for (int i = 0; i < 3; i++) {
                System.gc();
              }
              ChildNode.emit(
                  "HEAP",
                  Long.toString(memory.getHeapMemoryUsage().getUsed()),
                  Integer.toString(ManagementFactory.getThreadMXBean().getThreadCount()));
            },
            "gateways",
            (node, argument) -> {
              var all = node.registry().workers(Gateway.GROUP);
              long local = all.stream().filter(w -> w.node().equals(node.address())).count();
              ChildNode.emit("GATEWAYS", Long.toString(local), Integer.toString(all.size()));
            }));
  }
}
