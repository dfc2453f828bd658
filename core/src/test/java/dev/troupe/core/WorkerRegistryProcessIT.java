package dev.troupe.core;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.troupe.testkit.Eventually;
import dev.troupe.testkit.ProcessCluster;
import dev.troupe.testkit.ProcessCluster.NodeProcess;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The registry under a real crash: a node JVM is SIGKILLed. */
final class WorkerRegistryProcessIT {
  private static final Duration TIMEOUT = Duration.ofSeconds(60);
  private static final AtomicInteger ids = new AtomicInteger();

  /** One report of a node: the nodes seen in workers, allWorkers and picks. */
  private record Report(Set<String> workers, Set<String> all, Set<String> picks) {}

  private static Report report(NodeProcess node, String group) {
    String id = "r" + ids.incrementAndGet();
    node.send("report " + group + " " + id);
    String line = node.awaitLine(l -> l.startsWith("TROUPE-REPORT " + id + " "), TIMEOUT);
    Map<String, Set<String>> fields =
        Arrays.stream(line.split(" "))
            .skip(2)
            .map(f -> f.split("=", 2))
            .collect(
                Collectors.toMap(
                    f -> f[0],
                    f ->
                        f[1].equals("-")
                            ? Set.of()
                            : new TreeSet<>(Arrays.asList(f[1].split(",")))));
    return new Report(fields.get("workers"), fields.get("all"), fields.get("picks"));
  }

  @Test
  void theWorkersOfASigkilledNodeLeavePickWhenUnreachableAndAllWorkersWhenDowned() {
    try (ProcessCluster cluster =
        ProcessCluster.builder().size(3).mainClass(RegistryChildNode.class).start()) {
      Set<String> everyNode = new TreeSet<>();
      for (NodeProcess node : cluster.nodes()) {
        node.send("register procs 2");
        node.awaitLine(l -> l.equals("TROUPE-REGISTERED procs 2"), TIMEOUT);
        everyNode.add(node.address());
      }
      NodeProcess a = cluster.node(0);
      NodeProcess b = cluster.node(1);
      NodeProcess victim = cluster.node(2);
      for (NodeProcess node : new NodeProcess[] {a, b}) {
        Eventually.awaitAssert(
            TIMEOUT,
            "all three nodes' workers seen by " + node.name(),
            () -> {
              Report r = report(node, "procs");
              assertTrue(
                  r.workers().equals(everyNode) && r.picks().equals(everyNode), r.toString());
            });
      }

      victim.kill();
      Set<String> survivors = Set.of(a.address(), b.address());
      for (NodeProcess node : new NodeProcess[] {a, b}) {
        Eventually.awaitAssert(
            TIMEOUT,
            "the victim's workers out of workers/pick on " + node.name(),
            () -> {
              Report r = report(node, "procs");
              assertTrue(r.workers().equals(survivors), r.toString());
              assertTrue(r.picks().equals(survivors), r.toString());
            });
      }
      // Unreachable but not yet removed: allWorkers still lists the victim's workers. The report
      // is taken before looking at the events, so a REMOVED line not yet seen means the node was
      // still a member when the report was taken.
      Report early = report(a, "procs");
      long reportedAt = System.nanoTime();
      if (!early.all().contains(victim.address())) {
        // Only acceptable if the victim was downed right around the report: the registry prunes
        // on the downing, and the child prints its DOWNED line from another subscription, so the
        // line may come a little after the prune it explains.
        a.awaitLine(
            l ->
                l.equals("TROUPE-EVENT DOWNED " + victim.address())
                    || l.equals("TROUPE-EVENT REMOVED " + victim.address()),
            TIMEOUT);
        long afterReport = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - reportedAt);
        assertTrue(
            afterReport < 2000,
            "allWorkers dropped the victim " + afterReport + " ms before it was downed: " + early);
      }

      for (NodeProcess node : new NodeProcess[] {a, b}) {
        node.awaitLine(l -> l.equals("TROUPE-EVENT REMOVED " + victim.address()), TIMEOUT);
        Eventually.awaitAssert(
            TIMEOUT,
            "nothing stale on " + node.name() + " after the removal",
            () -> {
              Report r = report(node, "procs");
              assertTrue(r.all().equals(survivors) && r.workers().equals(survivors), r.toString());
              assertFalse(r.picks().contains(victim.address()), r.toString());
            });
      }
    }
  }
}
