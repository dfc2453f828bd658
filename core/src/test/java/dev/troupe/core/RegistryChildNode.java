package dev.troupe.core;

import dev.troupe.testkit.ChildNode;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.apache.pekko.actor.Address;

/**
 * A child node JVM for registry fault tests: {@link ChildNode} plus two commands.
 *
 * <ul>
 *   <li>{@code register <group> <count>}: spawns {@code count} workers and registers them, then
 *       prints {@code TROUPE-REGISTERED <group> <count>};
 *   <li>{@code report <group> <id>}: prints {@code TROUPE-REPORT <id> workers=<nodes> all=<nodes>
 *       picks=<nodes>}: the nodes of the group's members in {@code workers}, in {@code allWorkers},
 *       and of 30 round-robin picks (comma-separated, sorted; {@code -} if none).
 * </ul>
 */
public final class RegistryChildNode {
  private RegistryChildNode() {}

  public static void main(String[] args) throws Exception {
    ChildNode.run(
        args,
        Map.of(
            "register", RegistryChildNode::register,
            "report", RegistryChildNode::report));
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

  private static String nodeOf(TroupeNode node, Address address) {
    return address.hasLocalScope() ? node.address().toString() : address.toString();
  }

  private static String csv(Set<String> values) {
    return values.isEmpty() ? "-" : String.join(",", values);
  }
}
