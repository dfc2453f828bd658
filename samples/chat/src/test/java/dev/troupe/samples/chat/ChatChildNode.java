package dev.troupe.samples.chat;

import dev.troupe.testkit.ChildNode;
import java.util.Map;

/**
 * A child node JVM for the chat's fault test: {@link ChildNode} plus the command {@code chat},
 * which starts the chat on the node and prints {@code TROUPE-CHAT http <port>}.
 */
public final class ChatChildNode {
  private ChatChildNode() {}

  public static void main(String[] args) throws Exception {
    ChildNode.run(
        args,
        Map.of(
            "chat",
            (node, argument) -> {
              ChatNode chat =
                  ChatNode.start(node, ChatSettings.fromConfig(node.system().settings().config()));
              ChildNode.emit("CHAT", "http", Integer.toString(chat.httpPort()));
            }));
  }
}
