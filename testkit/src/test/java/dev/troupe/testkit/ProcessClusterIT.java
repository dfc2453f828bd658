package dev.troupe.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.troupe.testkit.ProcessCluster.NodeProcess;
import java.time.Duration;
import java.util.Set;
import org.junit.jupiter.api.Test;

final class ProcessClusterIT {
  private static final Duration FAULT_TIMEOUT = Duration.ofSeconds(60);

  @Test
  void threeProcessesFormAndSurviveTheSigkillOfOne() {
    try (ProcessCluster cluster = ProcessCluster.builder().size(3).start()) {
      NodeProcess a = cluster.node(0);
      NodeProcess b = cluster.node(1);
      NodeProcess victim = cluster.node(2);
      Set<String> all = Set.of(a.address(), b.address(), victim.address());
      assertEquals(all, a.members());

      victim.kill();
      assertFalse(victim.isAlive());

      for (NodeProcess survivor : new NodeProcess[] {a, b}) {
        survivor.awaitLine(
            l -> l.equals("TROUPE-EVENT UNREACHABLE " + victim.address()), FAULT_TIMEOUT);
        survivor.awaitLine(
            l -> l.equals("TROUPE-EVENT REMOVED " + victim.address()), FAULT_TIMEOUT);
        survivor.awaitMembers(Set.of(a.address(), b.address()), FAULT_TIMEOUT);
      }
    }
  }

  @Test
  void pausedProcessIsDownedAndExitsWhenResumed() {
    try (ProcessCluster cluster = ProcessCluster.builder().size(3).start()) {
      NodeProcess a = cluster.node(0);
      NodeProcess b = cluster.node(1);
      NodeProcess paused = cluster.node(2);

      paused.pause();
      for (NodeProcess survivor : new NodeProcess[] {a, b}) {
        survivor.awaitLine(
            l -> l.equals("TROUPE-EVENT REMOVED " + paused.address()), FAULT_TIMEOUT);
      }
      assertTrue(paused.isAlive(), "a stopped process is still there until it resumes");

      paused.resume();
      // Back from the pause it learns that it was downed, shuts down and exits (exit-jvm = on).
      paused.awaitExit(FAULT_TIMEOUT);
      a.awaitMembers(Set.of(a.address(), b.address()), FAULT_TIMEOUT);
    }
  }

  @Test
  void childrenTakeCommandsAndLeaveGracefully() {
    try (ProcessCluster cluster = ProcessCluster.builder().size(2).start()) {
      NodeProcess a = cluster.node(0);
      NodeProcess b = cluster.node(1);
      b.send("leave");
      a.awaitLine(l -> l.equals("TROUPE-EVENT REMOVED " + b.address()), FAULT_TIMEOUT);
      assertEquals(0, b.awaitExit(FAULT_TIMEOUT), "exit code of a graceful leave");
      int before = a.lineCount();
      a.send("no-such-command");
      a.awaitLineAfter(before, l -> l.startsWith("TROUPE-ERROR unknown command"), FAULT_TIMEOUT);
    }
  }
}
