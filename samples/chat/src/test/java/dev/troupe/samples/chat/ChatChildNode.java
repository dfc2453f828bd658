package dev.troupe.samples.chat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import dev.troupe.core.TroupeNode;
import dev.troupe.core.WorkerEntry;
import dev.troupe.core.WorkerGroup;
import dev.troupe.cron.CronTick;
import dev.troupe.testkit.ChildNode;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.slf4j.LoggerFactory;

/**
 * A child node JVM for the chat's fault tests: {@link ChildNode} plus the command {@code chat},
 * which starts the chat on the node and prints {@code TROUPE-MANAGEMENT <port>} (when the node runs
 * Pekko Management) and then {@code TROUPE-CHAT http <port>}.
 *
 * <p>It also prints witness lines for the chaos tests, {@code TROUPE-WITNESS <wall-millis> <kind>
 * <fields...>}, at the moment the event happens in this JVM:
 *
 * <ul>
 *   <li>{@code daemon_start <name> <epoch>} and {@code daemon_stop <name> <epoch>}: a daemon
 *       instance started or stopped on this node (from the daemon host's own log lines);
 *   <li>{@code daemon_leader}: the daemons leader singleton starts on this node;
 *   <li>{@code cron_scheduler <token>}: the cron scheduler singleton took over here;
 *   <li>{@code archiver <token>}: the chat's leader-only archiver leads here;
 *   <li>{@code cron_tick <job> <scheduled-at-millis> <token>}: a cron tick was delivered to this
 *       node's member of the worker group {@link #CRON_WITNESSES}, which passes it on to the node's
 *       room sweeper. A test that points the {@code close-idle-rooms} job at that group (instead of
 *       {@code chat-room-sweepers}) sees every delivery of the job, on every node.
 * </ul>
 */
public final class ChatChildNode {
  /** The group a test may target the {@code close-idle-rooms} job at, to witness its ticks. */
  static final WorkerGroup<CronTick> CRON_WITNESSES =
      WorkerGroup.of("chat-cron-witnesses", CronTick.class);

  private ChatChildNode() {}

  public static void main(String[] args) throws Exception {
    installLogWitness();
    ChildNode.run(
        args,
        Map.of(
            "chat",
            (node, argument) -> {
              ChatNode chat = startChat(node);
              ActorRef<CronTick> witness =
                  node.system()
                      .systemActorOf(cronWitness(node), "chat-cron-witness", Props.empty());
              node.registry().register(CRON_WITNESSES, witness).toCompletableFuture().join();
              announce(node, chat);
            }));
  }

  /** Starts the chat on {@code node} with the settings of its configuration. */
  static ChatNode startChat(TroupeNode node) {
    return ChatNode.start(node, ChatSettings.fromConfig(node.system().settings().config()));
  }

  /**
   * Prints {@code TROUPE-MANAGEMENT <port>} (if Management runs) and {@code TROUPE-CHAT http
   * <port>}.
   */
  static void announce(TroupeNode node, ChatNode chat) {
    node.managementUri()
        .ifPresent(uri -> ChildNode.emit("MANAGEMENT", Integer.toString(uri.getPort())));
    ChildNode.emit("CHAT", "http", Integer.toString(chat.httpPort()));
  }

  private static void witness(long wallMillis, String kind, String... fields) {
    String[] all = new String[fields.length + 2];
    all[0] = Long.toString(wallMillis);
    all[1] = kind;
    System.arraycopy(fields, 0, all, 2, fields.length);
    ChildNode.emit("WITNESS", all);
  }

  /** Prints each tick, then hands it to this node's room sweeper. */
  private static Behavior<CronTick> cronWitness(TroupeNode node) {
    return Behaviors.receiveMessage(
        tick -> {
          witness(
              System.currentTimeMillis(),
              "cron_tick",
              tick.job(),
              Long.toString(tick.scheduledAt().toEpochMilli()),
              Long.toString(tick.fencingToken()));
          List<WorkerEntry<CronTick>> sweepers = node.registry().workers(RoomSweeper.GROUP);
          sweepers.stream()
              .filter(w -> w.node().equals(node.address()))
              .findFirst()
              .or(() -> sweepers.stream().findFirst())
              .ifPresent(w -> w.ref().tell(tick));
          return Behaviors.same();
        });
  }

  private static final Pattern DAEMON_START =
      Pattern.compile("Daemon \\[(\\S+)\\] \\(launcher \\[.*\\], epoch (\\d+)\\) started");
  private static final Pattern DAEMON_STOP =
      Pattern.compile("Daemon \\[(\\S+)\\] \\(epoch (\\d+)\\) stopped.*");
  private static final Pattern CRON_SCHEDULER =
      Pattern.compile("Cron: scheduler took over with fencing token (\\d+).*");
  private static final Pattern ARCHIVER =
      Pattern.compile("Chat archiver leading with fencing token (\\d+)");

  /**
   * Turns the lifecycle log lines of the daemons, the cron scheduler and the archiver into lines.
   */
  private static void installLogWitness() {
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    AppenderBase<ILoggingEvent> appender =
        new AppenderBase<>() {
          @Override
          protected void append(ILoggingEvent event) {
            String message = event.getFormattedMessage();
            long at = event.getTimeStamp();
            Matcher m;
            if ((m = DAEMON_START.matcher(message)).matches()) {
              witness(at, "daemon_start", m.group(1), m.group(2));
            } else if ((m = DAEMON_STOP.matcher(message)).matches()) {
              witness(at, "daemon_stop", m.group(1), m.group(2));
            } else if (message.startsWith("Daemon leader starting on this node")) {
              witness(at, "daemon_leader");
            } else if ((m = CRON_SCHEDULER.matcher(message)).matches()) {
              witness(at, "cron_scheduler", m.group(1));
            } else if ((m = ARCHIVER.matcher(message)).matches()) {
              witness(at, "archiver", m.group(1));
            }
          }
        };
    appender.setContext(context);
    appender.setName("chaos-witness");
    appender.start();
    context.getLogger(Logger.ROOT_LOGGER_NAME).addAppender(appender);
  }
}
