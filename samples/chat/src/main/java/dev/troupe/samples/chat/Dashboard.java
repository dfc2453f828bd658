package dev.troupe.samples.chat;

import com.cronutils.descriptor.CronDescriptor;
import com.cronutils.model.CronType;
import com.cronutils.model.definition.CronDefinitionBuilder;
import com.cronutils.parser.CronParser;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.troupe.core.HashRing;
import dev.troupe.core.TroupeNode;
import dev.troupe.core.WorkerEntry;
import dev.troupe.cron.Cron;
import dev.troupe.cron.JobRun;
import dev.troupe.cron.JobStatus;
import dev.troupe.daemons.DaemonInfo;
import dev.troupe.daemons.Daemons;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.Cancellable;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.typed.Cluster;

/**
 * What {@code /dashboard} shows, as one JSON document refreshed every {@code
 * chat.dashboard-interval} and pushed to every open dashboard: the members and their status, the
 * leader and the oldest node (where the singletons — daemon leader, cron scheduler — live), the
 * ring's share per node, the rooms per node (from the {@code room-stats} daemon), the worker
 * groups, the address-book names, the daemons and the cron jobs (each spec described in words by
 * cron-utils' descriptor), the graphs' series ({@link NodeSeries}: every node's samples of the last
 * {@link #WINDOW}) and the event timeline ({@link Timeline}). Times meant for people are epoch
 * millis ({@code *Millis}, {@code at}), formatted by the page in the viewer's zone.
 *
 * <p>A snapshot asks the room-stats daemon, the daemon leader and the cron scheduler, walks the
 * registry and the address book and renders every node's series: it is built only while someone
 * watches (a dashboard feed or {@code /api/dashboard} read it within the last {@link
 * #WATCHED_INTERVALS} intervals), at most once an interval however many watch. Unwatched, the node
 * only observes the daemons and the cron jobs each interval, for the timeline; the graphs' samples
 * are taken regardless ({@link NodeSeries}). Building it every second on every node for nobody cost
 * each chat node about 6 % of a core and raised delivery p99 by a third in the 3-node chat
 * benchmark (docs/PERFORMANCE.md).
 */
final class Dashboard implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration ASK = Duration.ofSeconds(2);

  /** How far back the graphs reach. */
  static final Duration WINDOW = Duration.ofMinutes(5);

  /** How many events the timeline keeps. */
  static final int TIMELINE_EVENTS = 200;

  /** Intervals after the last read during which the dashboard counts as watched. */
  static final int WATCHED_INTERVALS = 5;

  /** A rendered snapshot and when it was built ({@code System.nanoTime()}). */
  private record Built(String json, long atNanos) {}

  private static final CronParser UNIX =
      new CronParser(CronDefinitionBuilder.instanceDefinitionFor(CronType.UNIX));
  private static final CronParser QUARTZ =
      new CronParser(CronDefinitionBuilder.instanceDefinitionFor(CronType.QUARTZ));

  private final TroupeNode node;
  private final Daemons daemons;
  private final Cron cron;
  private final ChatMetrics metrics;
  private final long intervalNanos;
  private volatile Built latest;
  private volatile long watchedAt; // System.nanoTime() of a viewer's last read
  private final AtomicReference<CompletableFuture<String>> building = new AtomicReference<>();
  private volatile boolean observing;
  private final AtomicLong builds = new AtomicLong();
  private final AtomicLong observations = new AtomicLong();
  private final Cancellable refresher;
  private final ActorRef<NodeSeries.Command> series;
  private final ActorRef<Timeline.Command> timeline;
  private double lastPosted;
  private long lastSampledAt = System.nanoTime();

  Dashboard(TroupeNode node, Daemons daemons, Cron cron, ChatMetrics metrics, Duration interval) {
    this.node = node;
    this.daemons = daemons;
    this.cron = cron;
    this.metrics = metrics;
    this.intervalNanos = interval.toNanos();
    long longAgo = System.nanoTime() - TimeUnit.DAYS.toNanos(1);
    this.latest = new Built("{}", longAgo);
    this.watchedAt = longAgo;
    this.series =
        node.system()
            .systemActorOf(
                NodeSeries.create(node, this::sample, interval, WINDOW),
                "chat-dashboard-series",
                Props.empty());
    this.timeline =
        node.system()
            .systemActorOf(
                Timeline.create(TIMELINE_EVENTS), "chat-dashboard-timeline", Props.empty());
    this.refresher =
        node.system()
            .scheduler()
            .scheduleAtFixedRate(
                Duration.ZERO, interval, this::refresh, node.system().executionContext());
  }

  /**
   * The snapshot for a viewer, JSON: the latest if it is at most an interval and a half old, else a
   * new one (one build at a time, shared by every viewer asking meanwhile). Marks the dashboard
   * watched, so the refresh keeps building snapshots every interval.
   */
  CompletionStage<String> current() {
    watchedAt = System.nanoTime();
    Built b = latest;
    if (System.nanoTime() - b.atNanos() <= intervalNanos + intervalNanos / 2) {
      return CompletableFuture.completedFuture(b.json());
    }
    return rebuild().exceptionally(e -> latest.json());
  }

  /** Builds a snapshot unless one is being built, and makes it the latest. */
  private CompletableFuture<String> rebuild() {
    CompletableFuture<String> mine = new CompletableFuture<>();
    CompletableFuture<String> inFlight = building.compareAndExchange(null, mine);
    if (inFlight != null) {
      return inFlight;
    }
    builds.incrementAndGet();
    snapshot()
        .whenComplete(
            (json, failure) -> {
              if (json != null) {
                latest = new Built(json, System.nanoTime());
              }
              building.set(null);
              if (failure != null) {
                mine.completeExceptionally(failure);
              } else {
                mine.complete(json);
              }
            });
    return mine;
  }

  /** Snapshots built for viewers since start (for tests). */
  long builds() {
    return builds.get();
  }

  /** Unwatched refreshes that only observed daemons and cron jobs for the timeline (for tests). */
  long observations() {
    return observations.get();
  }

  /** Builds a snapshot now. */
  CompletionStage<String> snapshot() {
    CompletableFuture<List<RoomStats.Update>> rooms =
        node.<RoomStats.Command, RoomStats.Snapshot>call(RoomStats.NAME, RoomStats.Get::new, ASK)
            .thenApply(RoomStats.Snapshot::rooms)
            .toCompletableFuture()
            .exceptionally(e -> null);
    CompletableFuture<Map<String, DaemonInfo>> running = running();
    CompletableFuture<List<JobStatus>> jobs = jobs();
    CompletableFuture<Map<String, SampleRing.View>> graphs =
        AskPattern.<NodeSeries.Command, Map<String, SampleRing.View>>ask(
                series, NodeSeries.Get::new, ASK, node.system().scheduler())
            .toCompletableFuture()
            .exceptionally(e -> Map.of());
    return CompletableFuture.allOf(rooms, running, jobs, graphs)
        .thenCompose(
            v -> {
              timeline.tell(new Timeline.Observed(running.join(), jobs.join(), oldestUp()));
              return AskPattern.<Timeline.Command, List<Timeline.Event>>ask(
                      timeline, Timeline.Get::new, ASK, node.system().scheduler())
                  .toCompletableFuture()
                  .exceptionally(e -> List.of());
            })
        .thenApply(
            events -> render(rooms.join(), running.join(), jobs.join(), graphs.join(), events));
  }

  /** The running daemons, or null if the daemon leader did not answer in time. */
  private CompletableFuture<Map<String, DaemonInfo>> running() {
    return daemons
        .running()
        .toCompletableFuture()
        .completeOnTimeout(null, 2, TimeUnit.SECONDS)
        .exceptionally(e -> null);
  }

  /** The cron jobs, or null if the cron scheduler did not answer in time. */
  private CompletableFuture<List<JobStatus>> jobs() {
    return cron.jobs()
        .toCompletableFuture()
        .completeOnTimeout(null, 2, TimeUnit.SECONDS)
        .exceptionally(e -> null);
  }

  /** This node's values for the graphs, in the order of {@link NodeSeries#SERIES}. */
  private double[] sample() {
    long now = System.nanoTime();
    double posted = metrics.postedCount();
    double seconds = Math.max(1e-3, (now - lastSampledAt) / 1e9);
    double postsPerSecond = (posted - lastPosted) / seconds;
    lastPosted = posted;
    lastSampledAt = now;
    int members = 0;
    for (Member m : Cluster.get(node.system()).state().getMembers()) {
      members++;
    }
    int entries = node.registry().allWorkers().values().stream().mapToInt(List::size).sum();
    io.micrometer.core.instrument.Gauge active =
        metrics.registry().find("troupe.fleet.active").tag("fleet", "rooms").gauge();
    return new double[] {
      postsPerSecond,
      metrics.deliveryP99Millis(),
      members,
      entries,
      active == null ? 0 : active.value()
    };
  }

  private String oldestUp() {
    Member oldest = null;
    for (Member m : Cluster.get(node.system()).state().getMembers()) {
      if (m.status() == org.apache.pekko.cluster.MemberStatus.up()
          && (oldest == null || m.isOlderThan(oldest))) {
        oldest = m;
      }
    }
    return oldest == null ? null : oldest.address().toString();
  }

  /** The spec in English words, or null when cron-utils cannot describe it. */
  static String describe(String spec) {
    try {
      String expression = spec.trim();
      CronParser parser = expression.split("\\s+").length == 5 ? UNIX : QUARTZ;
      return CronDescriptor.instance(Locale.ENGLISH).describe(parser.parse(expression));
    } catch (RuntimeException e) {
      return null;
    }
  }

  /** Every interval: a new snapshot while watched, else only what the timeline observes. */
  private void refresh() {
    if (System.nanoTime() - watchedAt < WATCHED_INTERVALS * intervalNanos) {
      rebuild();
      return;
    }
    if (observing || building.get() != null) {
      return;
    }
    observing = true;
    CompletableFuture<Map<String, DaemonInfo>> running = running();
    CompletableFuture<List<JobStatus>> jobs = jobs();
    CompletableFuture.allOf(running, jobs)
        .whenComplete(
            (v, failure) -> {
              timeline.tell(new Timeline.Observed(running.join(), jobs.join(), oldestUp()));
              observations.incrementAndGet();
              observing = false;
            });
  }

  private String render(
      List<RoomStats.Update> rooms,
      Map<String, DaemonInfo> running,
      List<JobStatus> jobs,
      Map<String, SampleRing.View> graphs,
      List<Timeline.Event> events) {
    ObjectNode out = JSON.createObjectNode();
    Instant now = Instant.now();
    out.put("time", now.toString());
    out.put("timeMillis", now.toEpochMilli());
    out.put("self", node.address().toString());
    out.put("selfName", node.name());
    out.put("connections", metrics.connections());

    ClusterEvent.CurrentClusterState state = Cluster.get(node.system()).state();
    Set<Member> unreachable = state.getUnreachable();
    out.put("leader", Optional.ofNullable(state.getLeader()).map(Address::toString).orElse(null));
    Member oldest = null;
    ArrayNode members = out.putArray("members");
    for (Member m : state.getMembers()) {
      ObjectNode member =
          members
              .addObject()
              .put("address", m.address().toString())
              .put("status", m.status().toString())
              .put("reachable", !unreachable.contains(m));
      ArrayNode roles = member.putArray("roles");
      m.getRoles().stream().filter(r -> !r.startsWith("dc-")).forEach(roles::add);
      if (m.status() == org.apache.pekko.cluster.MemberStatus.up()
          && (oldest == null || m.isOlderThan(oldest))) {
        oldest = m;
      }
    }
    out.put("oldest", oldest == null ? null : oldest.address().toString());

    ArrayNode ring = out.putArray("ring");
    Set<Address> available = node.addressBook().availableNodes();
    if (!available.isEmpty()) {
      Map<String, Integer> loads =
          HashRing.of(available.stream().map(Address::toString).toList()).loads();
      int total = loads.values().stream().mapToInt(Integer::intValue).sum();
      new TreeMap<>(loads)
          .forEach(
              (member, partitions) ->
                  ring.addObject()
                      .put("node", member)
                      .put("partitions", partitions)
                      .put("share", (double) partitions / total));
    }

    ArrayNode roomList = out.putArray("rooms");
    if (rooms == null) {
      out.put("roomsError", "the room-stats daemon did not answer");
    } else {
      for (RoomStats.Update r : rooms) {
        roomList
            .addObject()
            .put("room", r.room())
            .put("node", r.node())
            .put("participants", r.participants())
            .put("messages", r.messages())
            .put("lastPostAt", r.lastPostAt());
      }
    }

    ObjectNode groups = out.putObject("groups");
    for (Map.Entry<String, List<WorkerEntry<?>>> group :
        new TreeMap<>(node.registry().allWorkers()).entrySet()) {
      ObjectNode perNode = groups.putObject(group.getKey());
      for (WorkerEntry<?> e : group.getValue()) {
        String where = e.node().toString();
        perNode.put(where, perNode.path(where).asInt(0) + 1);
      }
    }

    ObjectNode names = out.putObject("names");
    node.addressBook()
        .snapshot()
        .forEach(
            (address, set) -> {
              ArrayNode list = names.putArray(address.toString());
              set.stream().sorted().forEach(list::add);
            });

    ArrayNode daemonList = out.putArray("daemons");
    if (running == null) {
      out.put("daemonsError", "the daemon leader did not answer");
    } else {
      new TreeMap<>(running)
          .values()
          .forEach(
              d ->
                  daemonList
                      .addObject()
                      .put("name", d.name())
                      .put("launcher", d.launcher())
                      .put("node", d.node().toString())
                      .put("epoch", d.epoch()));
    }

    ArrayNode cronList = out.putArray("cron");
    if (jobs == null) {
      out.put("cronError", "the cron scheduler did not answer");
    } else {
      for (JobStatus j : jobs) {
        ObjectNode job =
            cronList
                .addObject()
                .put("name", j.name())
                .put("spec", j.spec())
                .put("description", describe(j.spec()))
                .put("zone", j.zone().getId())
                .put("next", j.nextFire().map(Instant::toString).orElse(null))
                .put("last", j.lastFire().map(Instant::toString).orElse(null))
                .put("nextMillis", j.nextFire().map(Instant::toEpochMilli).orElse(null))
                .put("lastMillis", j.lastFire().map(Instant::toEpochMilli).orElse(null))
                .put("owner", j.owner().map(Address::toString).orElse(null))
                .put("paused", j.paused());
        ArrayNode runs = job.putArray("runs");
        for (JobRun run : j.recentRuns().subList(0, Math.min(5, j.recentRuns().size()))) {
          runs.addObject()
              .put("at", run.scheduledAt().toString())
              .put("atMillis", run.scheduledAt().toEpochMilli())
              .put("outcome", run.outcome())
              .put("detail", run.detail());
        }
      }
    }

    ObjectNode graphNode = out.putObject("series");
    ArrayNode seriesNames = graphNode.putArray("names");
    NodeSeries.SERIES.forEach(seriesNames::add);
    ObjectNode byNode = graphNode.putObject("nodes");
    graphs.forEach(
        (member, view) -> {
          ObjectNode one = byNode.putObject(member);
          ArrayNode at = one.putArray("at");
          for (long t : view.at()) {
            at.add(t);
          }
          for (int s = 0; s < NodeSeries.SERIES.size(); s++) {
            ArrayNode values = one.putArray(NodeSeries.SERIES.get(s));
            for (double v : view.series()[s]) {
              if (Double.isFinite(v)) {
                values.add(Math.round(v * 100) / 100.0);
              } else {
                values.addNull();
              }
            }
          }
        });

    ArrayNode timelineList = out.putArray("timeline");
    for (Timeline.Event e : events) {
      timelineList.addObject().put("at", e.at()).put("kind", e.kind()).put("text", e.text());
    }
    return out.toString();
  }

  @Override
  public void close() {
    refresher.cancel();
    series.tell(NodeSeries.Stop.INSTANCE);
    timeline.tell(Timeline.Stop.INSTANCE);
  }
}
