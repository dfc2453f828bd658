package dev.troupe.core;

import dev.troupe.testkit.Bursts;
import dev.troupe.testkit.ChildNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Subscribe;

/**
 * A child node JVM for registry fault tests: {@link ChildNode} plus these commands.
 *
 * <ul>
 *   <li>{@code register <group> <count>}: spawns {@code count} workers and registers them, then
 *       prints {@code TROUPE-REGISTERED <group> <count>};
 *   <li>{@code report <group> <id>}: prints {@code TROUPE-REPORT <id> workers=<nodes> all=<nodes>
 *       picks=<nodes>}: the nodes of the group's members in {@code workers}, in {@code allWorkers},
 *       and of 30 round-robin picks (comma-separated, sorted; {@code -} if none);
 *   <li>{@code burst <prefix> <groups> <count> <in-flight> <timeout-seconds>}: spawns {@code count}
 *       workers and registers worker {@code i} in group {@code <prefix>-<i % groups>}, at most
 *       {@code in-flight} calls at a time ({@link Bursts}), then prints {@code TROUPE-BURST
 *       <prefix> ok=<n> failed=<n> started=<n> pending=<n> ms=<elapsed> error=<first error or ->};
 *   <li>{@code names <prefix> <count> <in-flight> <timeout-seconds>}: the same for the address
 *       book: names {@code <prefix>-<i>}, each held by its own actor; prints {@code TROUPE-NAMES
 *       <prefix> ok=.. failed=.. started=.. pending=.. ms=.. error=..};
 *   <li>{@code group-report <prefix> <groups> <id>}: over groups {@code <prefix>-0 ..}, prints
 *       {@code TROUPE-GROUP-REPORT <id> at=<epoch ms> workers=<node:count,...> all=<node:count,...>
 *       picks=<node:count,...> keyPicks=<node:count,...> noPick=<n> minGroup=<n> maxGroup=<n>}:
 *       members per node in {@code workers} and {@code allWorkers}, the nodes of one {@code pick}
 *       and one {@code pick(group, key)} per group, the groups where {@code pick} found none, and
 *       the smallest and largest {@code workers} list;
 *   <li>{@code name-report <prefix> <count> <id>}: prints {@code TROUPE-NAME-REPORT <id> at=<epoch
 *       ms> located=<node:count,...> absent=<n>} over {@code locate(<prefix>-<i>)};
 *   <li>{@code track-removals}: from now on prints {@code TROUPE-REMOVED-AT <address> <epoch ms>}
 *       when a member is removed, then prints {@code TROUPE-TRACKING} at once.
 * </ul>
 *
 * <p>{@code at} and the removal times are this node's wall clock, so a test can tell how long after
 * a removal a report first showed something, without depending on when it read the lines.
 */
public final class RegistryChildNode {
  private RegistryChildNode() {}

  public static void main(String[] args) throws Exception {
    ChildNode.run(
        args,
        Map.of(
            "register", RegistryChildNode::register,
            "report", RegistryChildNode::report,
            "burst", RegistryChildNode::burst,
            "names", RegistryChildNode::names,
            "group-report", RegistryChildNode::groupReport,
            "name-report", RegistryChildNode::nameReport,
            "track-removals", RegistryChildNode::trackRemovals));
  }

  private static WorkerGroup<EchoWorker.Command> group(String name) {
    return WorkerGroup.of(name, EchoWorker.Command.class);
  }

  private static void register(TroupeNode node, String argument) throws Exception {
    String[] parts = argument.split(" ");
    int count = Integer.parseInt(parts[1]);
    for (int i = 0; i < count; i++) {
      String name = parts[0] + "-" + node.name() + "-" + i;
      node.registry()
          .register(group(parts[0]), EchoWorker.spawn(node, name))
          .toCompletableFuture()
          .get();
    }
    ChildNode.emit("REGISTERED", parts[0], Integer.toString(count));
  }

  private static void report(TroupeNode node, String argument) {
    String[] parts = argument.split(" ");
    WorkerGroup<EchoWorker.Command> group = group(parts[0]);
    Set<String> workers =
        node.registry().workers(group).stream()
            .map(e -> e.node().toString())
            .collect(Collectors.toCollection(TreeSet::new));
    List<WorkerEntry<?>> all = node.registry().allWorkers().getOrDefault(parts[0], List.of());
    Set<String> allNodes =
        all.stream().map(e -> e.node().toString()).collect(Collectors.toCollection(TreeSet::new));
    Set<String> picks = new TreeSet<>();
    for (int i = 0; i < 30; i++) {
      node.registry().pick(group).ifPresent(ref -> picks.add(nodeOf(node, ref.path().address())));
    }
    ChildNode.emit(
        "REPORT",
        parts[1],
        "workers=" + csv(workers),
        "all=" + csv(allNodes),
        "picks=" + csv(picks));
  }

  private static void burst(TroupeNode node, String argument) {
    String[] parts = argument.split(" ");
    String prefix = parts[0];
    int groups = Integer.parseInt(parts[1]);
    int count = Integer.parseInt(parts[2]);
    List<ActorRef<EchoWorker.Command>> workers =
        spawn(node, prefix + "-" + node.name() + "-w", count);
    Bursts.Result result =
        Bursts.run(
            count,
            Integer.parseInt(parts[3]),
            Duration.ofSeconds(Long.parseLong(parts[4])),
            i -> node.registry().register(group(prefix + "-" + i % groups), workers.get(i)));
    emitBurst("BURST", prefix, result);
  }

  private static void names(TroupeNode node, String argument) {
    String[] parts = argument.split(" ");
    String prefix = parts[0];
    int count = Integer.parseInt(parts[1]);
    List<ActorRef<EchoWorker.Command>> holders =
        spawn(node, prefix + "-" + node.name() + "-h", count);
    Bursts.Result result =
        Bursts.run(
            count,
            Integer.parseInt(parts[2]),
            Duration.ofSeconds(Long.parseLong(parts[3])),
            i -> node.addressBook().register(prefix + "-" + i, holders.get(i)));
    emitBurst("NAMES", prefix, result);
  }

  private static List<ActorRef<EchoWorker.Command>> spawn(
      TroupeNode node, String namePrefix, int count) {
    List<ActorRef<EchoWorker.Command>> refs = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      refs.add(EchoWorker.spawn(node, namePrefix + i));
    }
    return refs;
  }

  private static void emitBurst(String kind, String prefix, Bursts.Result result) {
    ChildNode.emit(
        kind,
        prefix,
        "ok=" + result.succeeded(),
        "failed=" + result.failed(),
        "started=" + result.started(),
        "pending=" + result.pending(),
        "ms=" + result.elapsed().toMillis(),
        "error=" + (result.firstError() == null ? "-" : result.firstError().toString()));
  }

  private static void groupReport(TroupeNode node, String argument) {
    String[] parts = argument.split(" ");
    String prefix = parts[0];
    int groups = Integer.parseInt(parts[1]);
    long at = System.currentTimeMillis();
    Map<String, List<WorkerEntry<?>>> all = node.registry().allWorkers();
    Map<String, Integer> workers = new TreeMap<>();
    Map<String, Integer> allWorkers = new TreeMap<>();
    Map<String, Integer> picks = new TreeMap<>();
    Map<String, Integer> keyPicks = new TreeMap<>();
    int noPick = 0;
    int minGroup = Integer.MAX_VALUE;
    int maxGroup = 0;
    for (int g = 0; g < groups; g++) {
      WorkerGroup<EchoWorker.Command> group = group(prefix + "-" + g);
      List<WorkerEntry<EchoWorker.Command>> members = node.registry().workers(group);
      minGroup = Math.min(minGroup, members.size());
      maxGroup = Math.max(maxGroup, members.size());
      members.forEach(e -> workers.merge(e.node().toString(), 1, Integer::sum));
      all.getOrDefault(group.name(), List.of())
          .forEach(e -> allWorkers.merge(e.node().toString(), 1, Integer::sum));
      Optional<ActorRef<EchoWorker.Command>> any = node.registry().pick(group);
      if (any.isEmpty()) {
        noPick++;
      }
      any.ifPresent(ref -> picks.merge(nodeOf(node, ref.path().address()), 1, Integer::sum));
      node.registry()
          .pick(group, "key-" + g)
          .ifPresent(ref -> keyPicks.merge(nodeOf(node, ref.path().address()), 1, Integer::sum));
    }
    ChildNode.emit(
        "GROUP-REPORT",
        parts[2],
        "at=" + at,
        "workers=" + counts(workers),
        "all=" + counts(allWorkers),
        "picks=" + counts(picks),
        "keyPicks=" + counts(keyPicks),
        "noPick=" + noPick,
        "minGroup=" + (groups == 0 ? 0 : minGroup),
        "maxGroup=" + maxGroup);
  }

  private static void nameReport(TroupeNode node, String argument) {
    String[] parts = argument.split(" ");
    int count = Integer.parseInt(parts[1]);
    long at = System.currentTimeMillis();
    Map<String, Integer> located = new TreeMap<>();
    int absent = 0;
    for (int i = 0; i < count; i++) {
      Optional<Address> where = node.addressBook().locate(parts[0] + "-" + i);
      if (where.isPresent()) {
        located.merge(where.get().toString(), 1, Integer::sum);
      } else {
        absent++;
      }
    }
    ChildNode.emit(
        "NAME-REPORT", parts[2], "at=" + at, "located=" + counts(located), "absent=" + absent);
  }

  private static void trackRemovals(TroupeNode node, String argument) {
    node.system()
        .systemActorOf(
            Behaviors.<ClusterEvent.MemberRemoved>setup(
                ctx -> {
                  Cluster.get(ctx.getSystem())
                      .subscriptions()
                      .tell(Subscribe.create(ctx.getSelf(), ClusterEvent.MemberRemoved.class));
                  return Behaviors.receiveMessage(
                      removed -> {
                        ChildNode.emit(
                            "REMOVED-AT",
                            removed.member().address().toString(),
                            Long.toString(System.currentTimeMillis()));
                        return Behaviors.same();
                      });
                }),
            "removal-tracker",
            Props.empty());
    ChildNode.emit("TRACKING");
  }

  private static String counts(Map<String, Integer> counts) {
    return counts.isEmpty()
        ? "-"
        : counts.entrySet().stream()
            .map(e -> e.getKey() + ":" + e.getValue())
            .collect(Collectors.joining(","));
  }

  private static String nodeOf(TroupeNode node, Address address) {
    return address.hasLocalScope() ? node.address().toString() : address.toString();
  }

  private static String csv(Set<String> values) {
    return values.isEmpty() ? "-" : String.join(",", values);
  }
}
