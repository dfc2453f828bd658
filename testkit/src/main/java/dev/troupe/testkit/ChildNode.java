package dev.troupe.testkit;

import dev.troupe.core.NodeOptions;
import dev.troupe.core.TroupeNode;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Subscribe;

/**
 * The {@code main} of a node JVM that {@link ProcessCluster} starts: starts a {@link TroupeNode},
 * reports to the parent on standard output, and takes commands on standard input.
 *
 * <p>Protocol lines (everything else on stdout is log output):
 *
 * <ul>
 *   <li>{@code TROUPE-READY <address>} once the node is Up;
 *   <li>{@code TROUPE-MEMBERS <address,address,...>} whenever the set of Up members changes;
 *   <li>{@code TROUPE-EVENT <UNREACHABLE|REACHABLE|REMOVED|DOWNED> <address>};
 *   <li>{@code TROUPE-TERMINATED} when the actor system has terminated;
 *   <li>lines a test's own commands print with {@link #emit}.
 * </ul>
 *
 * <p>Commands (one per line): {@code leave} (graceful leave, then exit), {@code members} (print the
 * members line now), and any command a test registers with {@link #run(String[], Map)}. When
 * standard input closes, because the parent test JVM died, the node exits too.
 *
 * <p>Arguments: {@code --name <name> [--seed <address>] [--config-file <path>]}.
 */
public final class ChildNode {
  /** A command a test registers: gets the node and the rest of the command line. */
  @FunctionalInterface
  public interface Command {
    void run(TroupeNode node, String argument) throws Exception;
  }

  private static final PrintStream OUT = System.out;

  private ChildNode() {}

  public static void main(String[] args) throws Exception {
    run(args, Map.of());
  }

  /**
   * Starts the node from {@code args}, serves {@code commands} and the built-in ones on stdin, and
   * returns when stdin closes or the node terminates. Exits the JVM at the end.
   */
  public static void run(String[] args, Map<String, Command> commands) throws Exception {
    Map<String, String> options = parse(args);
    String config =
        options.containsKey("config-file")
            ? Files.readString(Path.of(options.get("config-file")), StandardCharsets.UTF_8)
            : "";
    NodeOptions.Builder builder =
        NodeOptions.builder()
            .name(options.getOrDefault("name", "child"))
            .host("127.0.0.1")
            .port(0)
            .config(config);
    if (options.containsKey("seed")) {
      builder.seedNodes(List.of(options.get("seed")));
    }
    TroupeNode node = TroupeNode.start(builder.build());
    node.system()
        .getWhenTerminated()
        .thenRun(
            () -> {
              emit("TERMINATED");
              Runtime.getRuntime().halt(0);
            });
    node.system().systemActorOf(reporter(), "troupe-child-reporter", Props.empty());
    node.whenUp().thenAccept(n -> emit("READY", n.address().toString()));

    Map<String, Command> all = new HashMap<>(commands);
    all.put("members", (n, arg) -> emitMembers(n.members()));
    all.put("leave", (n, arg) -> n.leave());
    BufferedReader in =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    String line;
    while ((line = in.readLine()) != null) {
      String trimmed = line.trim();
      if (trimmed.isEmpty()) {
        continue;
      }
      int space = trimmed.indexOf(' ');
      String name = space < 0 ? trimmed : trimmed.substring(0, space);
      String argument = space < 0 ? "" : trimmed.substring(space + 1);
      Command command = all.get(name);
      if (command == null) {
        emit("ERROR", "unknown command [" + name + "]");
        continue;
      }
      try {
        command.run(node, argument);
      } catch (Exception e) {
        emit("ERROR", name + " failed: " + e);
      }
    }
    // The parent closed our stdin: it has finished or died. Do not outlive it.
    Runtime.getRuntime().halt(0);
  }

  /** Prints a protocol line {@code TROUPE-<kind> <fields...>} atomically. */
  public static void emit(String kind, String... fields) {
    StringBuilder line = new StringBuilder("TROUPE-").append(kind);
    for (String field : fields) {
      line.append(' ').append(field);
    }
    synchronized (OUT) {
      OUT.println(line);
      OUT.flush();
    }
  }

  private static void emitMembers(Set<Address> members) {
    emit(
        "MEMBERS",
        members.stream()
            .map(Address::toString)
            .collect(Collectors.toCollection(TreeSet::new))
            .stream()
            .collect(Collectors.joining(",")));
  }

  /** Reports membership from the cluster's own events (the initial state arrives as events). */
  private static Behavior<ClusterEvent.ClusterDomainEvent> reporter() {
    return Behaviors.setup(
        ctx -> {
          Cluster.get(ctx.getSystem())
              .subscriptions()
              .tell(Subscribe.create(ctx.getSelf(), ClusterEvent.ClusterDomainEvent.class));
          Map<Address, MemberStatus> statuses = new HashMap<>();
          Set<Address> lastUp = new HashSet<>();
          return Behaviors.receiveMessage(
              event -> {
                if (event instanceof ClusterEvent.UnreachableMember u) {
                  emit("EVENT", "UNREACHABLE", u.member().address().toString());
                } else if (event instanceof ClusterEvent.ReachableMember r) {
                  emit("EVENT", "REACHABLE", r.member().address().toString());
                } else if (event instanceof ClusterEvent.MemberRemoved r) {
                  statuses.remove(r.member().address());
                  emit("EVENT", "REMOVED", r.member().address().toString());
                } else if (event instanceof ClusterEvent.MemberEvent m) {
                  statuses.put(m.member().address(), m.member().status());
                  if (event instanceof ClusterEvent.MemberDowned) {
                    emit("EVENT", "DOWNED", m.member().address().toString());
                  }
                }
                Set<Address> up = new HashSet<>();
                statuses.forEach(
                    (address, status) -> {
                      if (status.equals(MemberStatus.up())) {
                        up.add(address);
                      }
                    });
                if (!up.equals(lastUp)) {
                  lastUp.clear();
                  lastUp.addAll(up);
                  emitMembers(up);
                }
                return Behaviors.same();
              });
        });
  }

  private static Map<String, String> parse(String[] args) {
    Map<String, String> options = new HashMap<>();
    for (int i = 0; i + 1 < args.length; i += 2) {
      if (!args[i].startsWith("--")) {
        throw new IllegalArgumentException("expected --option value, got: " + args[i]);
      }
      options.put(args[i].substring(2), args[i + 1]);
    }
    return options;
  }
}
