package dev.troupe.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * The accounting of one measured step of {@link ChatLoadBench}: every post planned in the step, by
 * id, with its intended send time, the time it was handed to its WebSocket, its acknowledgement and
 * its deliveries per recipient. Pure: the caller passes every time ({@code System.nanoTime()} in
 * the benchmark), so the arithmetic is tested without sockets.
 *
 * <p>Design notes. Only posts {@linkplain #planned planned} in this ledger are counted: an ack or a
 * delivery of a post from another step or from the warm-up (still in flight when the step starts)
 * is counted as <em>foreign</em> and nothing else, so acknowledged posts can never exceed sent
 * posts (the old benchmark counted acks of warm-up posts against posts of the window). Counts are
 * computed from the per-post states in {@link #summary}, never kept as differences, so none can be
 * negative. Latency is measured from the <em>intended</em> send time (the open-loop schedule), not
 * from the moment the post left the client: a load generator that falls behind, or a post queued
 * while its client reconnects, is charged for the wait (coordinated omission). Thread-safe: the
 * WebSocket listeners of many clients report concurrently.
 */
final class ChatLoadLedger {
  /**
   * Past this, a post handed to its socket late counts as a late send (the generator is behind).
   */
  static final long LATE_SEND_NANOS = 10_000_000;

  private final Map<String, Post> posts = new ConcurrentHashMap<>();
  private final AtomicLong foreignAcks = new AtomicLong();
  private final AtomicLong foreignDeliveries = new AtomicLong();
  private final AtomicLong duplicateAcks = new AtomicLong();
  private final AtomicLong duplicateDeliveries = new AtomicLong();
  private long[] latencies = new long[1024];
  private int latencyCount;

  /** One post: its schedule, what happened to it, who received it. Guarded by itself. */
  private static final class Post {
    final String room;
    final long intended;
    final int expectedRecipients;
    long sent = -1;
    long ackAt = -1;
    long seq = -1;
    boolean rejected;
    boolean timedOut;
    boolean abandoned;
    boolean failed;
    final BitSet recipients = new BitSet();

    Post(String room, long intended, int expectedRecipients) {
      this.room = room;
      this.intended = intended;
      this.expectedRecipients = expectedRecipients;
    }
  }

  /** An acknowledged post: where the database must have it. The post's text is its id. */
  record Acked(String id, String room, long seq) {}

  /**
   * The figures of a step. {@code unacked}: posts sent on a connection that is still open without
   * an ack or a rejection; {@code timedOut}: posts the chat's gateway gave up on (no answer from
   * the room within {@code chat.ack-timeout}: fate unknown); {@code abandoned}: posts sent on a
   * connection that closed before their ack (the client cannot know their fate); {@code failed}:
   * posts never handed to a socket.
   */
  record Summary(
      long planned,
      long sent,
      long acked,
      long rejected,
      long timedOut,
      long abandoned,
      long failed,
      long unacked,
      long deliveries,
      long expectedDeliveries,
      long undelivered,
      long duplicateDeliveries,
      long duplicateAcks,
      long foreignAcks,
      long foreignDeliveries,
      long lateSends,
      long maxSendLagNanos,
      Percentiles latency) {}

  /**
   * Nearest-rank percentiles of delivery latency in nanoseconds; {@code count == 0} means no data
   * (nothing was delivered), which {@link #format} writes as "no data" instead of failing.
   */
  record Percentiles(long count, long p50, long p99, long max) {
    static final Percentiles NONE = new Percentiles(0, -1, -1, -1);

    static Percentiles of(long[] values, int length) {
      if (length == 0) {
        return NONE;
      }
      long[] sorted = Arrays.copyOf(values, length);
      Arrays.sort(sorted);
      return new Percentiles(length, rank(sorted, 50), rank(sorted, 99), sorted[sorted.length - 1]);
    }

    /** The {@code p}-th percentile (nearest rank) of a sorted, non-empty array. */
    static long rank(long[] sorted, double p) {
      if (sorted.length == 0) {
        throw new IllegalArgumentException("no values: a percentile of nothing is undefined");
      }
      int rank = (int) Math.ceil(p / 100 * sorted.length);
      return sorted[Math.min(Math.max(rank, 1), sorted.length) - 1];
    }

    boolean empty() {
      return count == 0;
    }

    /** {@code nanos} as milliseconds ({@link Figures#ms}), or "no data". */
    String format(long nanos) {
      return empty() ? "no data" : Figures.ms(nanos);
    }
  }

  /** A post the schedule will send at {@code intendedNanos} to {@code room}. */
  void planned(String id, String room, long intendedNanos, int expectedRecipients) {
    if (posts.putIfAbsent(id, new Post(room, intendedNanos, expectedRecipients)) != null) {
      throw new IllegalArgumentException("post id [" + id + "] planned twice");
    }
  }

  /** The post was handed to its WebSocket at {@code nanos}. */
  void sent(String id, long nanos) {
    Post p = require(id);
    synchronized (p) {
      p.sent = nanos;
      p.failed = false;
    }
  }

  /** The post could not be handed to a socket (none open, or the send failed). */
  void sendFailed(String id) {
    Post p = require(id);
    synchronized (p) {
      if (p.ackAt < 0) {
        p.failed = true;
      }
    }
  }

  /** The connection the post was sent on closed; without an ack by now the post is abandoned. */
  void connectionClosed(String id) {
    Post p = posts.get(id);
    if (p == null) {
      return;
    }
    synchronized (p) {
      if (p.sent >= 0 && p.ackAt < 0 && !p.rejected) {
        p.abandoned = true;
      }
    }
  }

  /** An ack for {@code id}; false (and counted as foreign or duplicate) if not a first ack here. */
  boolean acked(String id, long seq, long nanos) {
    Post p = posts.get(id);
    if (p == null) {
      foreignAcks.incrementAndGet();
      return false;
    }
    synchronized (p) {
      if (p.ackAt >= 0) {
        duplicateAcks.incrementAndGet();
        return false;
      }
      p.ackAt = nanos;
      p.seq = seq;
      p.abandoned = false;
      p.failed = false;
      return true;
    }
  }

  /**
   * The gateway's error frame for {@code id} saying no acknowledgement came in time: the post's
   * fate is unknown (an ack that still comes counts).
   */
  void timedOut(String id) {
    errorFrame(id, p -> p.timedOut = true);
  }

  /** An error frame naming {@code id} (rate limit, "not stored, post again", ...). */
  void rejected(String id) {
    errorFrame(id, p -> p.rejected = true);
  }

  /** An error frame for {@code id}: {@code mark} it unless it is acknowledged already. */
  private void errorFrame(String id, Consumer<Post> mark) {
    Post p = posts.get(id);
    if (p == null) {
      foreignAcks.incrementAndGet();
      return;
    }
    synchronized (p) {
      if (p.ackAt < 0) {
        mark.accept(p);
      }
    }
  }

  /**
   * A message frame of post {@code id} received by client {@code recipient} at {@code nanos}; false
   * (and counted) if foreign or a second delivery to the same recipient.
   */
  boolean delivered(String id, int recipient, long nanos) {
    Post p = posts.get(id);
    if (p == null) {
      foreignDeliveries.incrementAndGet();
      return false;
    }
    synchronized (p) {
      if (p.recipients.get(recipient)) {
        duplicateDeliveries.incrementAndGet();
        return false;
      }
      p.recipients.set(recipient);
    }
    addLatency(nanos - p.intended);
    return true;
  }

  private synchronized void addLatency(long nanos) {
    if (latencyCount == latencies.length) {
      latencies = Arrays.copyOf(latencies, latencies.length * 2);
    }
    latencies[latencyCount++] = Math.max(0, nanos);
  }

  private Post require(String id) {
    Post p = posts.get(id);
    if (p == null) {
      throw new IllegalArgumentException("post id [" + id + "] was never planned");
    }
    return p;
  }

  /**
   * The rooms that have a post intended at or after {@code sinceNanos} that is acknowledged and
   * delivered to all its expected recipients: after a node is killed, a room in this set works
   * again end to end (its worker is running somewhere and its members are connected).
   */
  Set<String> roomsSettledSince(long sinceNanos) {
    Set<String> rooms = new HashSet<>();
    for (Post p : posts.values()) {
      synchronized (p) {
        if (p.intended >= sinceNanos
            && p.ackAt >= 0
            && p.recipients.cardinality() >= p.expectedRecipients) {
          rooms.add(p.room);
        }
      }
    }
    return rooms;
  }

  /** The acknowledged posts, for the database check ({@link #lost}). */
  List<Acked> acknowledged() {
    List<Acked> out = new ArrayList<>();
    posts.forEach(
        (id, p) -> {
          synchronized (p) {
            if (p.ackAt >= 0) {
              out.add(new Acked(id, p.room, p.seq));
            }
          }
        });
    return out;
  }

  /**
   * Acknowledged posts the database does not hold: {@code stored} maps {@code room + "#" + seq} to
   * the stored text, and a post's text is its id.
   */
  static long lost(List<Acked> acknowledged, Map<String, String> stored) {
    return acknowledged.stream()
        .filter(a -> !a.id().equals(stored.get(a.room() + "#" + a.seq())))
        .count();
  }

  Summary summary() {
    long planned = 0;
    long sent = 0;
    long acked = 0;
    long rejected = 0;
    long timedOut = 0;
    long abandoned = 0;
    long failed = 0;
    long unacked = 0;
    long deliveries = 0;
    long expected = 0;
    long undelivered = 0;
    long late = 0;
    long maxLag = 0;
    for (Post p : posts.values()) {
      synchronized (p) {
        planned++;
        boolean wasSent = p.sent >= 0 || p.ackAt >= 0;
        if (wasSent) {
          sent++;
          if (p.sent >= 0) {
            long lag = p.sent - p.intended;
            maxLag = Math.max(maxLag, lag);
            if (lag > LATE_SEND_NANOS) {
              late++;
            }
          }
        }
        int received = p.recipients.cardinality();
        deliveries += received;
        if (p.ackAt >= 0) {
          acked++;
          expected += p.expectedRecipients;
          undelivered += Math.max(0, p.expectedRecipients - received);
        } else if (p.rejected) {
          rejected++;
        } else if (p.timedOut) {
          timedOut++;
        } else if (p.abandoned) {
          abandoned++;
        } else if (wasSent) {
          unacked++;
        } else {
          failed++;
        }
      }
    }
    Percentiles latency;
    synchronized (this) {
      latency = Percentiles.of(latencies, latencyCount);
    }
    return new Summary(
        planned,
        sent,
        acked,
        rejected,
        timedOut,
        abandoned,
        failed,
        unacked,
        deliveries,
        expected,
        undelivered,
        duplicateDeliveries.get(),
        duplicateAcks.get(),
        foreignAcks.get(),
        foreignDeliveries.get(),
        late,
        maxLag,
        latency);
  }
}
