package dev.troupe.samples.chat;

import com.typesafe.config.Config;
import dev.troupe.core.NodeOptions;
import dev.troupe.core.TroupeNode;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.Props;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The chat sample's entry point: starts one Troupe node with the chat and runs until Ctrl-C.
 *
 * <p>Without arguments it starts an embedded single-node cluster on 127.0.0.1 and serves the chat
 * on http://127.0.0.1:8080/ and Pekko Management on http://127.0.0.1:7626/ ({@code /ready}, {@code
 * /alive}, {@code /cluster/members}). {@code --help} lists every option with its default.
 *
 * <p>A node that joins seeds (or bootstraps) is part of a multi-node cluster: its rooms' histories,
 * locks and cron claims must be in a database every node shares, so a private H2 database (in
 * memory, or a file without {@code AUTO_SERVER=TRUE}) is refused.
 *
 * <p>Exit status: 0 after Ctrl-C (SIGTERM: the node leaves the cluster gracefully through Pekko's
 * CoordinatedShutdown) or {@code --help}; 2 for bad options; 1 when the node, Pekko Management or
 * the chat's HTTP server cannot start; 255 when the node was downed (Pekko's exit code for a
 * downing: a supervisor restarts it).
 */
public final class ChatApp {
  private static final Logger log = LoggerFactory.getLogger(ChatApp.class);

  /** An option: its value's name (null for a flag without value), and what it sets. */
  private record Option(String value, String help) {}

  private static final Map<String, Option> OPTIONS = new LinkedHashMap<>();

  static {
    OPTIONS.put("name", new Option("NAME", "node name for logs and the dashboard"));
    OPTIONS.put(
        "host",
        new Option(
            "HOST", "the address other nodes reach this one at (Artery canonical.hostname)"));
    OPTIONS.put("port", new Option("PORT", "the cluster port (canonical.port); 0 = any free port"));
    OPTIONS.put(
        "bind-host",
        new Option("HOST", "the interface the cluster port listens on (bind.hostname)"));
    OPTIONS.put("bind-port", new Option("PORT", "the port the cluster listens on (bind.port)"));
    OPTIONS.put(
        "seed",
        new Option(
            "ADDRESS",
            "a seed node to join, e.g. pekko://troupe@127.0.0.1:17355 (repeat for several);"
                + " without one the node joins itself, or bootstraps if troupe.core.bootstrap is on"));
    OPTIONS.put("http-host", new Option("HOST", "the chat's HTTP interface (chat.http.host)"));
    OPTIONS.put("http-port", new Option("PORT", "the chat's HTTP port (chat.http.port)"));
    OPTIONS.put(
        "management-port",
        new Option("PORT", "Pekko Management's HTTP port: /ready, /alive, /cluster/members"));
    OPTIONS.put("storage", new Option("JDBC_URL", "the database (troupe.storage.url)"));
    OPTIONS.put("help", new Option(null, "print this help and exit"));
  }

  private ChatApp() {}

  /** Why a node shuts down when the chat cannot start on it: exit status 1 (application.conf). */
  static final class StartFailed implements CoordinatedShutdown.Reason {
    static final StartFailed INSTANCE = new StartFailed();

    private StartFailed() {}

    @Override
    public String toString() {
      return "the chat could not start";
    }
  }

  public static void main(String[] args) {
    System.exit(run(args, System.out, System.err));
  }

  /** Runs the node until it terminates; returns the exit status. */
  static int run(String[] args, PrintStream out, PrintStream err) {
    NodeOptions options;
    try {
      if (List.of(args).contains("--help")) {
        out.print(help());
        return 0;
      }
      options = options(args);
    } catch (IllegalArgumentException e) {
      err.println("troupe-chat: " + e.getMessage());
      err.println("Run with --help for the options and their defaults.");
      return 2;
    }
    TroupeNode node;
    ChatSettings settings;
    try {
      settings = ChatSettings.fromConfig(options.toConfig());
      node = TroupeNode.start(options);
    } catch (RuntimeException e) {
      err.println("troupe-chat: the node cannot start: " + e.getMessage());
      return e instanceof IllegalArgumentException ? 2 : 1;
    }
    node.system().systemActorOf(MembershipLog.create(), "chat-membership-log", Props.empty());
    CompletableFuture<Integer> failed = new CompletableFuture<>();
    node.whenUp()
        .thenAccept(
            up -> {
              log.info(
                  "Chat node [{}] is Up at [{}]; members: {}; press Ctrl-C to leave",
                  up.name(),
                  up.address(),
                  up.members());
              try {
                ChatNode.start(up, settings);
              } catch (RuntimeException e) {
                err.println("troupe-chat: the chat cannot start: " + e.getMessage());
                failed.complete(1);
                // Leaves and exits with status 1 (application.conf: reason-overrides).
                CoordinatedShutdown.get(node.system()).runAll(StartFailed.INSTANCE);
              }
            })
        .exceptionally(
            e -> {
              // Ctrl-C before the node was Up, or a start-up failure logged by Pekko.
              log.info("The chat node stopped before it was Up: {}", e.getMessage());
              return null;
            });
    node.system().getWhenTerminated().toCompletableFuture().join();
    log.info("Chat node [{}] stopped", node.name());
    return failed.getNow(0);
  }

  /** The {@code --help} text: every option with its default from the configuration. */
  static String help() {
    Config config = NodeOptions.defaults().toConfig();
    Map<String, String> defaults = new LinkedHashMap<>();
    defaults.put("name", "<host>:<port>");
    defaults.put("host", config.getString("pekko.remote.artery.canonical.hostname"));
    defaults.put("port", config.getString("pekko.remote.artery.canonical.port"));
    defaults.put("bind-host", "--host");
    defaults.put("bind-port", "--port");
    defaults.put("seed", "none");
    defaults.put("http-host", config.getString("chat.http.host"));
    defaults.put("http-port", config.getString("chat.http.port"));
    defaults.put("management-port", config.getString("pekko.management.http.port"));
    defaults.put("storage", config.getString("troupe.storage.url"));
    StringBuilder text =
        new StringBuilder(
            "usage: java -jar troupe-chat.jar [options]\n\n"
                + "Starts a Troupe chat node: the chat on http://<http-host>:<http-port>/, its"
                + " dashboard on /dashboard,\nPekko Management on"
                + " http://<host>:<management-port>/ (/ready, /alive, /cluster/members).\n\n");
    for (Map.Entry<String, Option> option : OPTIONS.entrySet()) {
      Option o = option.getValue();
      String flag = "--" + option.getKey() + (o.value() == null ? "" : " " + o.value());
      text.append(String.format(Locale.ROOT, "  %-26s %s", flag, o.help()));
      String def = defaults.get(option.getKey());
      if (def != null) {
        text.append(" [default: ").append(def).append(']');
      }
      text.append('\n');
    }
    text.append(
        "\nSettings without an option come from application.conf and the environment"
            + " (TROUPE_*, CHAT_*: see docs/DEPLOYMENT.md).\n"
            + "Exit status: 0 after Ctrl-C, 2 for bad options, 1 when the node or a server cannot"
            + " start, 255 when the node was downed.\n");
    return text.toString();
  }

  static NodeOptions options(String[] args) {
    Map<String, List<String>> parsed = new LinkedHashMap<>();
    for (int i = 0; i < args.length; i++) {
      String flag = args[i];
      String key = flag.startsWith("--") ? flag.substring(2) : null;
      Option option = key == null ? null : OPTIONS.get(key);
      if (option == null) {
        throw new IllegalArgumentException(
            (key == null ? "expected an --option, got: [" + flag + "]" : "unknown option " + flag));
      }
      if (option.value() == null) {
        parsed.computeIfAbsent(key, k -> new ArrayList<>());
        continue;
      }
      if (i + 1 >= args.length || args[i + 1].startsWith("--")) {
        throw new IllegalArgumentException(flag + " needs a value (" + option.value() + ")");
      }
      parsed.computeIfAbsent(key, k -> new ArrayList<>()).add(args[++i]);
    }
    NodeOptions.Builder builder = NodeOptions.builder();
    StringBuilder config = new StringBuilder();
    String storage = null;
    List<String> seeds = List.of();
    for (Map.Entry<String, List<String>> option : parsed.entrySet()) {
      List<String> values = option.getValue();
      String last = values.isEmpty() ? "" : values.get(values.size() - 1);
      switch (option.getKey()) {
        case "name" -> builder.name(last);
        case "host" -> builder.host(last);
        case "port" -> builder.port(parsePort("--port", last));
        case "bind-host" -> setting(config, "pekko.remote.artery.bind.hostname", quoted(last));
        case "bind-port" ->
            setting(config, "pekko.remote.artery.bind.port", parsePort("--bind-port", last));
        case "seed" -> {
          seeds = values;
          builder.seedNodes(values);
        }
        case "http-host" -> setting(config, "chat.http.host", quoted(last));
        case "http-port" -> setting(config, "chat.http.port", parsePort("--http-port", last));
        case "management-port" ->
            setting(config, "pekko.management.http.port", parsePort("--management-port", last));
        case "storage" -> {
          storage = last;
          setting(config, "troupe.storage.url", quoted(last));
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

  private static void setting(StringBuilder config, String path, Object value) {
    config.append(path).append(" = ").append(value).append('\n');
  }

  private static String quoted(String value) {
    return "\"" + value.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }

  /** Troupe's default storage (troupe.storage.url in core's reference.conf). */
  static final String DEFAULT_STORAGE = "jdbc:h2:file:./data/troupe";

  /** A multi-node cluster needs one database for all nodes: a private H2 database is refused. */
  static void requireSharedStorage(String url) {
    boolean h2 = url.startsWith("jdbc:h2:");
    boolean server = url.startsWith("jdbc:h2:tcp:") || url.startsWith("jdbc:h2:ssl:");
    boolean autoServer = url.toUpperCase(Locale.ROOT).contains("AUTO_SERVER=TRUE");
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
    int port;
    try {
      port = Integer.parseInt(value);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(option + " must be a number, got: [" + value + "]", e);
    }
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException(option + " must be in 0..65535, got: [" + value + "]");
    }
    return port;
  }
}
