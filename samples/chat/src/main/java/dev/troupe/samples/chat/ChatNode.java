package dev.troupe.samples.chat;

import dev.troupe.core.AccessToken;
import dev.troupe.core.TroupeNode;
import dev.troupe.core.lock.JdbcLockRegistry;
import dev.troupe.core.storage.Storage;
import dev.troupe.cron.Cron;
import dev.troupe.cron.CronTick;
import dev.troupe.daemons.Daemons;
import dev.troupe.daemons.Launcher;
import dev.troupe.daemons.LeaderOnly;
import dev.troupe.daemons.OnceLog;
import dev.troupe.sharding.FleetSpec;
import dev.troupe.sharding.Repository;
import dev.troupe.sharding.WorkerFleet;
import java.time.Clock;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.http.javadsl.ServerBinding;

/**
 * The chat service on one node, wired from Troupe's parts: the {@code rooms} fleet (one worker per
 * room, its history in a Repository), the gateways' worker group, the {@code room-stats} daemon,
 * the {@code close-idle-rooms} cron job's sweeper, the leader-only archiver, the dashboard, and the
 * HTTP server. Start it on every node.
 */
final class ChatNode implements AutoCloseable {
  private final TroupeNode node;
  private final WorkerFleet<Room.Command> rooms;
  private final ChatStore store;
  private final Dashboard dashboard;
  private final ChatServer server;
  private final ServerBinding binding;

  private ChatNode(
      TroupeNode node,
      WorkerFleet<Room.Command> rooms,
      ChatStore store,
      Dashboard dashboard,
      ChatServer server,
      ServerBinding binding) {
    this.node = node;
    this.rooms = rooms;
    this.store = store;
    this.dashboard = dashboard;
    this.server = server;
    this.binding = binding;
  }

  /**
   * Asks every running room to tell {@code instance} its counts (a room-stats instance that just
   * started). Best effort: a room that stops meanwhile is simply not listed.
   */
  private static void askRoomsForCounts(
      WorkerFleet<Room.Command> rooms, ActorRef<RoomStats.Command> instance) {
    rooms
        .activeKeys()
        .thenAccept(
            keys -> {
              Map<String, Room.Command> ask = new HashMap<>();
              keys.forEach(key -> ask.put(key, new Room.ReportStats(instance)));
              rooms.publish(ask);
            });
  }

  static ChatNode start(TroupeNode node, ChatSettings settings) {
    com.typesafe.config.Config config = node.system().settings().config();
    if (config.getString("troupe.profile").equals("production")
        && !AccessToken.fromConfig(config).isSet()) {
      throw new IllegalArgumentException(
          AccessToken.SETTING
              + " is empty: under troupe.profile = production the dashboard, its JSON and"
              + " /metrics are served only with the operator token; set it (TROUPE_ACCESS_TOKEN)");
    }
    Storage storage = Storage.get(node.system());
    ChatStore store = new ChatStore(storage);
    ChatMetrics metrics = new ChatMetrics(node.name());
    // Troupe's own meters (registry, address book, locks, daemons, cron, storage) on /metrics too
    TroupeNode.attach(node.system(), metrics.registry());
    Repository<RoomState> history = Repository.create(node, "chat-rooms", RoomState.class);
    String self = node.address().toString();
    Room.Env env =
        new Room.Env(
            history,
            store,
            () -> node.registry().workers(Gateway.GROUP),
            update -> node.send(RoomStats.NAME, update),
            self,
            settings.historySize(),
            Clock.systemUTC());
    WorkerFleet<Room.Command> rooms =
        WorkerFleet.start(
            node,
            FleetSpec.of("rooms", Room.Command.class, id -> Room.create(id, env))
                .withStopMessage(new Room.Stop())
                .withMeterRegistry(metrics.registry()));

    Daemons daemons = Daemons.get(node);
    daemons.registerLauncher(
        RoomStats.NAME,
        Launcher.of(
                RoomStats.Command.class,
                spec -> RoomStats.create(instance -> askRoomsForCounts(rooms, instance)))
            .withRecovery(Launcher.singletonDaemon(RoomStats.NAME, List.of())));

    ActorRef<CronTick> sweeper =
        node.system()
            .systemActorOf(
                RoomSweeper.create(rooms, settings.idleRoomTimeout()),
                "chat-room-sweeper",
                Props.empty());
    node.registry().register(RoomSweeper.GROUP, sweeper);
    Cron cron = Cron.get(node);

    OnceLog once = OnceLog.create(storage).withNode(node.name());
    LeaderOnly.run(
        node,
        "chat-archiver",
        JdbcLockRegistry.get(node.system()),
        token -> Archiver.create(token, store, once, settings, Clock.systemUTC()));

    Dashboard dashboard = new Dashboard(node, daemons, cron, metrics, settings.dashboardInterval());
    ChatServer server = ChatServer.create(node, settings, rooms, metrics, dashboard);
    ServerBinding binding;
    try {
      binding = server.bind().toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      dashboard.close();
      throw new IllegalStateException(
          "cannot serve HTTP on " + settings.host() + ":" + settings.port() + ": " + e.getMessage(),
          e);
    }
    ChatReadinessCheck.serving(node.system(), binding.localAddress().getPort());
    node.system()
        .log()
        .info(
            "Chat on {}: http://{}:{}/ (dashboard: /dashboard){}",
            self,
            settings.host(),
            binding.localAddress().getPort(),
            node.managementUri().map(uri -> "; Pekko Management: " + uri).orElse(""));
    return new ChatNode(node, rooms, store, dashboard, server, binding);
  }

  TroupeNode node() {
    return node;
  }

  WorkerFleet<Room.Command> rooms() {
    return rooms;
  }

  ChatStore store() {
    return store;
  }

  Dashboard dashboard() {
    return dashboard;
  }

  /** What this node's HTTP clients hold open. */
  ConnectionLimits connectionLimits() {
    return server.limits();
  }

  /** The port the HTTP server listens on. */
  int httpPort() {
    return binding.localAddress().getPort();
  }

  @Override
  public void close() {
    dashboard.close();
    binding
        .unbind()
        .toCompletableFuture()
        .orTimeout(10, TimeUnit.SECONDS)
        .exceptionally(e -> null)
        .join();
  }
}
