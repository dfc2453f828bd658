package dev.troupe.samples.chat;

import dev.troupe.core.NodeOptions;
import dev.troupe.core.TroupeNode;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.typed.Props;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The chat sample's entry point: starts one Troupe node and runs until Ctrl-C.
 *
 * <p>Without arguments it starts an embedded single-node cluster on 127.0.0.1:17355 and serves the
 * chat on http://127.0.0.1:8080/. Options:
 *
 * <pre>
 *   --name node-1                            node name for logs and the dashboard
 *   --port 17355                             cluster port (0 = any free port)
 *   --seed pekko://troupe@127.0.0.1:17355    a seed node to join (repeat for several)
 *   --http-port 8080                         the chat's HTTP port
 *   --storage jdbc:h2:file:./data/chat;AUTO_SERVER=TRUE   the database (troupe.storage.url)
 * </pre>
 *
 * <p>A node that joins seeds is part of a multi-node cluster: its rooms' histories, locks and cron
 * claims must be in a database every node shares, so a private H2 database (in memory, or a file
 * without {@code AUTO_SERVER=TRUE}) is refused.
 *
 * <p>Ctrl-C (SIGTERM) leaves the cluster gracefully: Pekko's JVM shutdown hook runs
 * CoordinatedShutdown.
 */
public final class ChatApp {
  private static final Logger log = LoggerFactory.getLogger(ChatApp.class);

  private ChatApp() {}

  public static void main(String[] args) {
    NodeOptions options;
    try {
      options = options(args);
    } catch (IllegalArgumentException e) {
      System.err.println("troupe-chat: " + e.getMessage());
      System.err.println(
          "usage: java -jar troupe-chat.jar [--name NAME] [--port PORT] [--seed ADDRESS]..."
              + " [--http-port PORT] [--storage JDBC_URL]");
      System.exit(2);
      return;
    }
    TroupeNode node = TroupeNode.start(options);
    node.system().systemActorOf(MembershipLog.create(), "chat-membership-log", Props.empty());
    ChatSettings settings;
    try {
      settings = ChatSettings.fromConfig(node.system().settings().config());
    } catch (RuntimeException e) {
      System.err.println("troupe-chat: " + e.getMessage());
      node.close();
      System.exit(2);
      return;
    }
    node.whenUp()
        .thenAccept(
            up -> {
              log.info(
                  "Chat node [{}] is Up at [{}]; members: {}; press Ctrl-C to leave",
                  up.name(),
                  up.address(),
                  up.members());
              ChatNode.start(up, settings);
            })
        .exceptionally(
            e -> {
              log.error("The chat could not start: {}", e.getMessage(), e);
              node.leave();
              return null;
            });
    node.system().getWhenTerminated().toCompletableFuture().join();
    log.info("Chat node [{}] stopped", node.name());
  }

  static NodeOptions options(String[] args) {
    Map<String, List<String>> parsed = new HashMap<>();
    for (int i = 0; i < args.length; i += 2) {
      String flag = args[i];
      if (!flag.startsWith("--") || i + 1 >= args.length) {
        throw new IllegalArgumentException(
            "expected --option value pairs, got: " + Arrays.toString(args));
      }
      parsed.computeIfAbsent(flag.substring(2), k -> new java.util.ArrayList<>()).add(args[i + 1]);
    }
    NodeOptions.Builder builder = NodeOptions.builder();
    StringBuilder config = new StringBuilder();
    String storage = null;
    List<String> seeds = List.of();
    for (Map.Entry<String, List<String>> option : parsed.entrySet()) {
      List<String> values = option.getValue();
      String last = values.get(values.size() - 1);
      switch (option.getKey()) {
        case "name" -> builder.name(last);
        case "port" -> builder.port(parsePort("--port", last));
        case "seed" -> {
          seeds = values;
          builder.seedNodes(values);
        }
        case "http-port" ->
            config.append("chat.http.port = ").append(parsePort("--http-port", last)).append('\n');
        case "storage" -> {
          storage = last;
          config.append("troupe.storage.url = \"").append(last.replace("\"", "")).append("\"\n");
        }
        default -> throw new IllegalArgumentException("unknown option --" + option.getKey());
      }
    }
    if (!seeds.isEmpty()) {
      requireSharedStorage(storage == null ? DEFAULT_STORAGE : storage);
    }
    if (config.length() > 0) {
      builder.config(config.toString());
    }
    return builder.build();
  }

  /** Troupe's default storage (troupe.storage.url in core's reference.conf). */
  static final String DEFAULT_STORAGE = "jdbc:h2:file:./data/troupe";

  /** A multi-node cluster needs one database for all nodes: a private H2 database is refused. */
  static void requireSharedStorage(String url) {
    boolean h2 = url.startsWith("jdbc:h2:");
    boolean server = url.startsWith("jdbc:h2:tcp:") || url.startsWith("jdbc:h2:ssl:");
    boolean autoServer = url.toUpperCase(java.util.Locale.ROOT).contains("AUTO_SERVER=TRUE");
    if (h2 && !server && (url.startsWith("jdbc:h2:mem:") || !autoServer)) {
      throw new IllegalArgumentException(
          "--storage ["
              + url
              + "] is a private H2 database, but this node joins a cluster: every node must use"
              + " the same database. On one machine use --storage"
              + " \"jdbc:h2:file:./data/chat;AUTO_SERVER=TRUE\" on every node; across machines"
              + " use PostgreSQL (jdbc:postgresql://host:5432/db?user=...)");
    }
  }

  private static int parsePort(String option, String value) {
    try {
      return Integer.parseInt(value);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(option + " must be a number, got: [" + value + "]", e);
    }
  }
}
