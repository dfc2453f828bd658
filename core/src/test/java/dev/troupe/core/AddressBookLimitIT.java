package dev.troupe.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.troupe.testkit.ClusterExtension;
import dev.troupe.testkit.Eventually;
import dev.troupe.testkit.Stages;
import dev.troupe.testkit.TestCluster;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * FAULTS.md R5, the documented limit: {@code troupe.core.address-book.max-names} is enforced at the
 * API on every node, the refusal names the setting and the name, and the node keeps working.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
final class AddressBookLimitIT {
  private static final int LIMIT = 40;
  private static final Duration TIMEOUT = Duration.ofSeconds(30);

  @RegisterExtension
  static final ClusterExtension<TestCluster> cluster =
      ClusterExtension.inJvm(2, "troupe.core.address-book.max-names = " + LIMIT);

  private static <T> T await(CompletionStage<T> stage) {
    return Stages.await(stage, TIMEOUT);
  }

  private static int namesIn(TroupeNode node) {
    return node.addressBook().snapshot().values().stream().mapToInt(Set::size).sum();
  }

  private static void assertRefused(Throwable refusal, String name) {
    IllegalStateException e = assertInstanceOf(IllegalStateException.class, refusal);
    assertTrue(e.getMessage().contains("troupe.core.address-book.max-names"), e.getMessage());
    assertTrue(e.getMessage().contains("limit of " + LIMIT + " names"), e.getMessage());
    assertTrue(e.getMessage().contains("[" + name + "]"), e.getMessage());
  }

  @Test
  void registrationsBeyondTheLimitAreRefusedOnEveryNodeAndAFreedNameMakesRoom() {
    TroupeNode a = cluster.get().node(0);
    TroupeNode b = cluster.get().node(1);
    List<ActorRef<EchoWorker.Command>> holders = new ArrayList<>();
    for (int i = 0; i < LIMIT; i++) {
      ActorRef<EchoWorker.Command> holder = EchoWorker.spawn(a, "limited-" + i);
      holders.add(holder);
      await(a.addressBook().register("limited-" + i, holder, EchoWorker.Command.class));
    }

    ActorRef<EchoWorker.Command> extraOnA = EchoWorker.spawn(a, "extra-a");
    assertRefused(
        Stages.failure(a.addressBook().register("extra-a", extraOnA, EchoWorker.Command.class)),
        "extra-a");
    Eventually.awaitAssert(TIMEOUT, "b sees every name", () -> assertEquals(LIMIT, namesIn(b)));
    ActorRef<EchoWorker.Command> extraOnB = EchoWorker.spawn(b, "extra-b");
    assertRefused(
        Stages.failure(b.addressBook().register("extra-b", extraOnB, EchoWorker.Command.class)),
        "extra-b");

    // Re-registering a holder is no new name; the refusals took nothing down.
    await(a.addressBook().register("limited-0", holders.get(0), EchoWorker.Command.class));
    assertEquals(Optional.of(a.address()), b.locate("limited-7"));
    assertEquals(Optional.empty(), a.locate("extra-a"));
    assertEquals(LIMIT, namesIn(a));

    // A holder that stops frees its name, and with it room for a new one on any node.
    holders.get(3).tell(EchoWorker.Stop.INSTANCE);
    Eventually.awaitAssert(
        TIMEOUT, "b sees limited-3 gone", () -> assertEquals(LIMIT - 1, namesIn(b)));
    await(b.addressBook().register("extra-b", extraOnB, EchoWorker.Command.class));
    Eventually.awaitAssert(
        TIMEOUT,
        "a locates extra-b on b",
        () -> assertEquals(Optional.of(b.address()), a.locate("extra-b")));
    for (TroupeNode node : cluster.get().liveNodes()) {
      assertEquals(0, node.droppedOversizedMessages(), "oversized drops on " + node.name());
    }
  }

  @Test
  void aLimitOutsideItsRangeIsRefusedNamingTheSetting() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                new dev.troupe.core.internal.AddressBookSettings(
                    Duration.ofSeconds(2),
                    Duration.ofSeconds(3),
                    0,
                    new dev.troupe.core.internal.ReplicationSettings(
                        Duration.ofMillis(500),
                        Duration.ofSeconds(2),
                        64 * 1024,
                        Duration.ofSeconds(30),
                        Duration.ofSeconds(60))));
    assertTrue(e.getMessage().contains("troupe.core.address-book.max-names"), e.getMessage());
  }
}
