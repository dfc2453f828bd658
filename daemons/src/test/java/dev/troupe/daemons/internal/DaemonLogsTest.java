package dev.troupe.daemons.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import dev.troupe.testkit.Eventually;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/** The MDC keys of the daemons' log lines, added to Pekko's own. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
final class DaemonLogsTest {
  private static final String LOGGER = "dev.troupe.daemons.internal.DaemonLogsTest.actor";

  private final ActorTestKit kit = ActorTestKit.create();
  private final Captured captured = new Captured();
  private final Logger logger = (Logger) LoggerFactory.getLogger(LOGGER);

  @BeforeEach
  void capture() {
    captured.events.clear();
    captured.start();
    logger.setLevel(Level.INFO);
    logger.addAppender(captured);
  }

  @AfterEach
  void release() {
    logger.detachAppender(captured);
  }

  @AfterAll
  void stop() {
    kit.shutdownTestKit();
  }

  @Test
  void aDaemonsOwnLinesCarryItsNameAndEpochBesidesPekkosAndTheApplicationsKeys() {
    Behavior<String> application =
        Behaviors.setup(
            ctx -> {
              ctx.setLoggerName(LOGGER);
              ctx.getLog().info("setting up");
              // The application's own MDC, which a withMdc around it would have removed.
              return Behaviors.withMdc(
                  String.class,
                  Map.of("app.key", "app-value"),
                  Behaviors.receive(String.class)
                      .onMessage(
                          String.class,
                          msg -> {
                            ctx.getLog().info("got {}", msg);
                            return Behaviors.same();
                          })
                      .build());
            });
    ActorRef<String> daemon = kit.spawn(DaemonLogs.ofDaemon("importer-a", 7, application));
    daemon.tell("work");

    Map<String, String> setup = line("setting up");
    assertEquals("importer-a", setup.get(DaemonLogs.DAEMON));
    assertEquals("7", setup.get(DaemonLogs.EPOCH));
    Map<String, String> work = line("got work");
    assertEquals("importer-a", work.get(DaemonLogs.DAEMON));
    assertEquals("7", work.get(DaemonLogs.EPOCH));
    assertEquals("app-value", work.get("app.key"), "the application's withMdc kept: " + work);
    assertNotNull(work.get("pekkoSource"), "Pekko's keys kept: " + work);
    assertNotNull(work.get("pekkoAddress"), "Pekko's keys kept: " + work);
  }

  @Test
  void aHostsLinesCarryTheNodeAndTheDaemonItIsAbout() {
    Behavior<String> host =
        DaemonLogs.onNode(
            String.class,
            "node-1",
            Behaviors.setup(
                ctx -> {
                  ctx.setLoggerName(LOGGER);
                  return Behaviors.receive(String.class)
                      .onMessage(
                          String.class,
                          msg -> {
                            try (var log = DaemonLogs.about(msg, 3)) {
                              ctx.getLog().info("about {}", msg);
                            }
                            ctx.getLog().info("after {}", msg);
                            return Behaviors.same();
                          })
                      .build();
                }));
    kit.spawn(host).tell("billing");

    Map<String, String> about = line("about billing");
    assertEquals("node-1", about.get(DaemonLogs.NODE));
    assertEquals("billing", about.get(DaemonLogs.DAEMON));
    assertEquals("3", about.get(DaemonLogs.EPOCH));
    assertNotNull(about.get("pekkoSource"), "Pekko's keys kept: " + about);
    Map<String, String> after = line("after billing");
    assertEquals("node-1", after.get(DaemonLogs.NODE));
    assertNull(after.get(DaemonLogs.DAEMON), "the scope ended: " + after);
    assertNull(after.get(DaemonLogs.EPOCH), "the scope ended: " + after);
  }

  @Test
  void aScopeRestoresWhatTheMdcHeldAndLeavesNothingBehind() {
    MDC.put(DaemonLogs.DAEMON, "outer");
    try {
      try (var log = DaemonLogs.about("inner", 5)) {
        assertEquals("inner", MDC.get(DaemonLogs.DAEMON));
        assertEquals("5", MDC.get(DaemonLogs.EPOCH));
      }
      assertEquals("outer", MDC.get(DaemonLogs.DAEMON));
      assertNull(MDC.get(DaemonLogs.EPOCH));
      try (var log = DaemonLogs.about("no-epoch-yet", 0)) {
        assertNull(MDC.get(DaemonLogs.EPOCH), "epoch 0: no key");
      }
    } finally {
      MDC.remove(DaemonLogs.DAEMON);
    }
  }

  /** The MDC of the captured line with message {@code message}, once it was logged. */
  private Map<String, String> line(String message) {
    Eventually.awaitCondition(
        Duration.ofSeconds(5), "a line [" + message + "]", () -> find(message) != null);
    return find(message);
  }

  private Map<String, String> find(String message) {
    return captured.events.stream()
        .filter(e -> e.message().equals(message))
        .map(Event::mdc)
        .findFirst()
        .orElse(null);
  }

  private record Event(String message, Map<String, String> mdc) {}

  /** Reads each event's MDC when it is appended, on the logging thread. */
  private static final class Captured extends AppenderBase<ILoggingEvent> {
    final List<Event> events = new CopyOnWriteArrayList<>();

    @Override
    protected void append(ILoggingEvent event) {
      events.add(new Event(event.getFormattedMessage(), Map.copyOf(event.getMDCPropertyMap())));
    }
  }
}
