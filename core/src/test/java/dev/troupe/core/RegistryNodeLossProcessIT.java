package dev.troupe.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.troupe.testkit.Eventually;
import dev.troupe.testkit.ProcessCluster;
import dev.troupe.testkit.ProcessCluster.NodeProcess;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Issue 15 point 7: a node JVM that holds 10 000 workers in 100 groups and 10 000 address-book
 * names is SIGKILLed. Its workers leave {@code workers} and {@code pick} on the survivors once they
 * see it unreachable; once it is downed and removed, its entries leave {@code allWorkers} and its
 * names the address book; the survivors keep working. Prints how long after {@code MemberRemoved}
 * the entries were gone (measured on each survivor's clock, not asserted).
 *
 * <p>Size and window: {@code -Dtroupe.scale.n=N} (default 10 000) and {@code
 * -Dtroupe.scale.in-flight=N} (default 2 000 calls in flight). The timeouts bound each phase so
 * that a stuck test ends; they are not speed goals.
 */
final class RegistryNodeLossProcessIT {
  private static final int N = Integer.getInteger("troupe.scale.n", 10_000);
  private static final int IN_FLIGHT = Integer.getInteger("troupe.scale.in-flight", 2_000);
  private static final int GROUPS = 100;
  private static final Duration TIMEOUT = Duration.ofSeconds(60);
  // Every node holds the victim's 20 000 entries; the kit's default 256 MiB is meant for small
  // tests.
  private static final String[] CHILD_JVM = {
    "-Xmx512m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xshare:auto"
  };
  private static final AtomicInteger ids = new AtomicInteger();

  /** The {@code key=value} fields of a protocol line; {@code error=} takes the rest of the line. */
  private record Fields(String line, Map<String, String> values) {
    static Fields parse(String line) {
      String head = line;
      Map<String, String> values = new HashMap<>();
      int error = line.indexOf(" error=");
      if (error >= 0) {
        values.put("error", line.substring(error + " error=".length()));
        head = line.substring(0, error);
      }
      Arrays.stream(head.split(" "))
          .filter(f -> f.contains("="))
          .map(f -> f.split("=", 2))
          .forEach(f -> values.put(f[0], f[1]));
      return new Fields(line, values);
    }

    long number(String key) {
      return Long.parseLong(field(key));
    }

    /** A {@code node:count,...} field as a map; {@code -} is empty. */
    Map<String, Integer> counts(String key) {
      Map<String, Integer> counts = new TreeMap<>();
      String value = field(key);
      if (!value.equals("-")) {
        for (String pair : value.split(",")) {
          int colon = pair.lastIndexOf(':');
          counts.put(pair.substring(0, colon), Integer.parseInt(pair.substring(colon + 1)));
        }
      }
      return counts;
    }

    private String field(String key) {
      String value = values.get(key);
      if (value == null) {
        throw new AssertionError("no field [" + key + "] in: " + line);
      }
      return value;
    }
  }

  /** Sends a burst command and waits for its result line; every call must have succeeded. */
  private static void burst(NodeProcess node, String command, int count) {
    String[] words = command.split(" ");
    String kind = words[0].toUpperCase(Locale.ROOT);
    int from = node.lineCount();
    node.send(command);
    // The child bounds the burst by TIMEOUT itself; spawning the actors comes on top.
    String line =
        node.awaitLineAfter(
            from,
            l -> l.startsWith("TROUPE-" + kind + " " + words[1] + " "),
            TIMEOUT.multipliedBy(2));
    Fields result = Fields.parse(line);
    assertTrue(
        result.number("ok") == count && result.number("failed") == 0,
        "[" + command + "] on " + node.name() + ": " + line);
  }

  private static Fields groupReport(NodeProcess node, String prefix, int groups) {
    String id = "g" + ids.incrementAndGet();
    node.send("group-report " + prefix + " " + groups + " " + id);
    return Fields.parse(
        node.awaitLine(l -> l.startsWith("TROUPE-GROUP-REPORT " + id + " "), TIMEOUT));
  }

  private static Fields nameReport(NodeProcess node, String prefix, int count) {
    String id = "n" + ids.incrementAndGet();
    node.send("name-report " + prefix + " " + count + " " + id);
    return Fields.parse(
        node.awaitLine(l -> l.startsWith("TROUPE-NAME-REPORT " + id + " "), TIMEOUT));
  }

  @Test
  void theEntriesOfASigkilledNodeLeavePickWhenUnreachableAndEverySurvivorOnceRemoved() {
    try (ProcessCluster cluster =
        ProcessCluster.builder()
            .size(3)
            .mainClass(RegistryChildNode.class)
            .jvmArgs(CHILD_JVM)
            .start()) {
      NodeProcess a = cluster.node(0);
      NodeProcess b = cluster.node(1);
      NodeProcess victim = cluster.node(2);
      List<NodeProcess> survivors = List.of(a, b);
      long seconds = TIMEOUT.toSeconds();
      for (NodeProcess node : survivors) {
        node.send("track-removals");
        node.awaitLine(l -> l.equals("TROUPE-TRACKING"), TIMEOUT);
        // One worker per group on each survivor: picks have somewhere to go once the victim's
        // workers leave.
        burst(node, "burst scale " + GROUPS + " " + GROUPS + " " + GROUPS + " " + seconds, GROUPS);
      }
      burst(victim, "burst scale " + GROUPS + " " + N + " " + IN_FLIGHT + " " + seconds, N);
      burst(victim, "names lost " + N + " " + IN_FLIGHT + " " + seconds, N);

      Map<String, Integer> everyone =
          Map.of(a.address(), GROUPS, b.address(), GROUPS, victim.address(), N);
      Map<String, Integer> survivorsOnly = Map.of(a.address(), GROUPS, b.address(), GROUPS);
      for (NodeProcess node : survivors) {
        Eventually.awaitAssert(
            TIMEOUT,
            "every worker of the three nodes seen by " + node.name(),
            () -> {
              Fields r = groupReport(node, "scale", GROUPS);
              assertEquals(everyone, r.counts("workers"), "workers per node: " + r.line());
              assertEquals(everyone, r.counts("all"), "allWorkers per node: " + r.line());
              assertEquals(0, r.number("noPick"), "groups without a pick: " + r.line());
              assertEquals(2 + N / GROUPS, r.number("minGroup"), r.line());
              assertEquals(2 + (N + GROUPS - 1) / GROUPS, r.number("maxGroup"), r.line());
            });
        Eventually.awaitAssert(
            TIMEOUT,
            "every name of the victim located by " + node.name(),
            () -> {
              Fields r = nameReport(node, "lost", N);
              assertEquals(Map.of(victim.address(), N), r.counts("located"), r.line());
            });
      }

      victim.kill();
      for (NodeProcess node : survivors) {
        node.awaitLine(l -> l.equals("TROUPE-EVENT UNREACHABLE " + victim.address()), TIMEOUT);
        Eventually.awaitAssert(
            TIMEOUT,
            "the victim's workers out of workers() and pick on " + node.name(),
            () -> {
              Fields r = groupReport(node, "scale", GROUPS);
              assertEquals(survivorsOnly, r.counts("workers"), "workers per node: " + r.line());
              assertEquals(0, r.number("noPick"), "groups without a pick: " + r.line());
              assertTrue(
                  survivorsOnly.keySet().containsAll(r.counts("picks").keySet())
                      && survivorsOnly.keySet().containsAll(r.counts("keyPicks").keySet()),
                  "picks only on survivors: " + r.line());
              assertEquals(2, r.number("maxGroup"), r.line());
            });
      }

      for (NodeProcess node : survivors) {
        String removed =
            node.awaitLine(
                l -> l.startsWith("TROUPE-REMOVED-AT " + victim.address() + " "), TIMEOUT);
        long removedAt = Long.parseLong(removed.substring(removed.lastIndexOf(' ') + 1));
        // Child clock times (epoch ms) of the last report still showing the victim, and the first
        // one without it, for workers and names separately.
        long[] stale = {-1, -1};
        long[] clean = {-1, -1};
        Eventually.awaitAssert(
            TIMEOUT,
            "no entry and no name of the removed victim on " + node.name(),
            () -> {
              Fields g = groupReport(node, "scale", GROUPS);
              Fields n = nameReport(node, "lost", N);
              boolean workersGone =
                  survivorsOnly.equals(g.counts("all"))
                      && survivorsOnly.equals(g.counts("workers"));
              boolean namesGone = n.counts("located").isEmpty() && n.number("absent") == N;
              note(workersGone, g.number("at"), stale, clean, 0);
              note(namesGone, n.number("at"), stale, clean, 1);
              assertTrue(workersGone, "allWorkers/workers after the removal: " + g.line());
              assertTrue(namesGone, "names after the removal: " + n.line());
            });
        System.out.printf(
            "RegistryNodeLossProcessIT: on %s, %d workers gone from allWorkers %s after"
                + " MemberRemoved, %d names gone %s%n",
            node.name(),
            N,
            window(removedAt, stale[0], clean[0]),
            N,
            window(removedAt, stale[1], clean[1]));
        node.awaitMembers(Set.of(a.address(), b.address()), TIMEOUT);
      }

      // The survivors keep working: a fresh worker and a fresh name on one show on the other.
      burst(a, "burst fresh 1 1 1 " + seconds, 1);
      burst(a, "names fresh 1 1 " + seconds, 1);
      Eventually.awaitAssert(
          TIMEOUT,
          b.name() + " sees the fresh worker and name of " + a.name(),
          () -> {
            Fields g = groupReport(b, "fresh", 1);
            assertEquals(Map.of(a.address(), 1), g.counts("workers"), g.line());
            assertEquals(Map.of(a.address(), 1), g.counts("picks"), g.line());
            Fields n = nameReport(b, "fresh", 1);
            assertEquals(Map.of(a.address(), 1), n.counts("located"), n.line());
          });
    }
  }

  /** Keeps the last stale and the first clean report time of one measurement. */
  private static void note(boolean gone, long at, long[] stale, long[] clean, int which) {
    if (gone) {
      if (clean[which] < 0) {
        clean[which] = at;
      }
    } else {
      stale[which] = at;
    }
  }

  private static String window(long removedAt, long stale, long clean) {
    String upper = "within " + (clean - removedAt) + " ms";
    return stale < 0
        ? upper + " (clean at the first look)"
        : upper + " (still there at " + (stale - removedAt) + " ms)";
  }
}
