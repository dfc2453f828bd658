package dev.troupe.core.internal;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;
import java.util.function.LongSupplier;

/**
 * INTERNAL API. The replication core of the worker registry and the address book, after Erlang's
 * {@code pg}: every node owns the entries of its own actors and sends their changes straight to
 * every peer; a peer's entries are replaced by a full copy when the peer connects (or a message
 * went missing) and dropped when the peer is removed. Pure and single-threaded: the owning actor
 * calls it and sends what it hands to the {@link Outbox}.
 */
public final class OwnedReplicas {
  /*
   * Design notes.
   *
   * Cost. A change costs O(1) here and one message per peer per batch (the actor flushes once per
   * batch of commands, so a burst of n registrations is n/chunk messages per peer, not n); a
   * receiver applies a message in O(entries in it). Nothing per change grows with the total size;
   * a full copy, O(own entries), is sent only when a peer connects or lost a message. Compare
   * Distributed Data, where a change to a key re-serializes and gossips the whole key.
   *
   * Streams. Each sender numbers its messages to each receiver (seq, no gaps; Artery keeps the
   * order of messages between two actors and may drop some on overload or reconnect). A receiver
   * applies a change only in order; at a gap it keeps what it has, asks for a full copy
   * (SyncRequest) and ignores changes until the copy arrives. A periodic Status with the last seq
   * sent shows a loss at the tail of a stream. A copy is sent in parts, all in one go, so that no
   * change of the sender can come between its parts.
   *
   * Peers. A node learns of a peer from membership (discover) and asks it for a copy; a node that
   * is asked for a copy adds the asker to the peers it sends its changes to. A peer is (address,
   * incarnation uid): a restarted node at the same address is a new peer, and a removed peer's
   * late messages are ignored (tombstones), so a removed node's entries never come back.
   *
   * Messages stay below maxBytes (UTF-8 bytes of their strings plus 24 per entry), well below
   * Artery's frame (256 KiB).
   *
   * Propagation stamps. A change message carries changedAt, this node's wall clock (epoch millis)
   * at the first change of the batch it sends (0 in a full copy); a receiver keeps the stamps of the
   * change messages it applied until its actor takes them (takeOrigins), after publishing its
   * views, to measure the lag. At most MAX_ORIGINS are kept between takes; more are not recorded.
   */

  /** Takes the propagation stamps of {@link #takeOrigins}. */
  @FunctionalInterface
  public interface OriginSink {
    /** {@code stamps[0..count)}: the origins' wall-clock millis; valid during the call only. */
    void accept(long[] stamps, int count);
  }

  private static final int MAX_ORIGINS = 4096;

  /** A peer: a node address and its incarnation. */
  public record Peer(String node, long uid) {}

  /** Where the core's messages go. */
  public interface Outbox {
    void send(Peer to, ReplicaMessage message);
  }

  /**
   * The entries of one key on one node, by path; the bucket holds the canonical key string. Most
   * keys have one entry per node (an address-book name, a group on a small node), so the first
   * entry is held inline and a map is made only for a second one.
   */
  private static final class Bucket {
    final String key;
    private ReplicaEntry single;
    private EntryTable byPath;

    Bucket(String key) {
      this.key = key;
    }

    /** Adds or replaces the entry of its path; returns the previous one, or null. */
    ReplicaEntry put(ReplicaEntry entry) {
      if (byPath != null) {
        return byPath.put(entry);
      }
      if (single == null || single.path().equals(entry.path())) {
        ReplicaEntry previous = single;
        single = entry;
        return previous;
      }
      byPath = new EntryTable();
      byPath.put(single);
      single = null;
      return byPath.put(entry);
    }

    ReplicaEntry get(String path) {
      if (byPath != null) {
        return byPath.get(path);
      }
      return single != null && single.path().equals(path) ? single : null;
    }

    ReplicaEntry remove(String path) {
      if (byPath != null) {
        return byPath.remove(path);
      }
      if (single != null && single.path().equals(path)) {
        ReplicaEntry removed = single;
        single = null;
        return removed;
      }
      return null;
    }

    int size() {
      return byPath != null ? byPath.size() : single == null ? 0 : 1;
    }

    boolean isEmpty() {
      return size() == 0;
    }

    void forEach(java.util.function.Consumer<ReplicaEntry> action) {
      if (byPath != null) {
        byPath.forEach(action);
      } else if (single != null) {
        action.accept(single);
      }
    }

    /**
     * Replaces each entry that carries the same data as {@code before}'s entry of its path by that
     * one (keeping its cached view); returns whether anything differs from {@code before}.
     */
    boolean keepUnchanged(Bucket before) {
      boolean[] changed = {before == null || before.size() != size()};
      if (byPath != null) {
        byPath.replaceEach(
            e -> {
              ReplicaEntry previous = before == null ? null : before.get(e.path());
              if (e.sameAs(previous)) {
                return previous;
              }
              changed[0] = true;
              return e;
            });
      } else if (single != null) {
        ReplicaEntry previous = before == null ? null : before.get(single.path());
        if (single.sameAs(previous)) {
          single = previous;
        } else {
          changed[0] = true;
        }
      }
      return changed[0];
    }
  }

  /** What this node holds of one peer's entries. */
  private static final class Inbound {
    final long uid;
    final long createdNanos;
    Map<String, Bucket> entries = new HashMap<>();
    int size;
    long lastSeq;
    boolean synced;
    boolean requested;
    long requestedNanos;
    Map<String, Bucket> staging;
    int stagingSize;

    Inbound(long uid, long nowNanos) {
      this.uid = uid;
      this.createdNanos = nowNanos;
    }
  }

  /** This node's stream to one peer. */
  private static final class Outbound {
    final long uid;
    long seq;
    long acked;

    Outbound(long uid) {
      this.uid = uid;
    }
  }

  private record Id(String key, String path) {}

  private static final int TOMBSTONES = 10_000;

  private final String self;
  private final long selfUid;
  private final int maxBytes;
  private final long resyncAfterNanos;
  private final Map<String, Bucket> local = new HashMap<>();
  private final LinkedHashMap<Id, ReplicaEntry> pending = new LinkedHashMap<>(); // null: removed
  private final Map<String, Inbound> inbound = new HashMap<>();
  private final Map<String, Outbound> outbound = new HashMap<>();
  private final Map<String, String> protocols = new HashMap<>();
  private final ReplicaChanges changes = new ReplicaChanges();
  private final Set<String> completedSyncs = new HashSet<>();
  private final LongSupplier wallClock;
  private long pendingSince; // wall-clock millis of the first pending change
  private long[] origins = new long[16];
  private int originCount;
  private final Map<Peer, Boolean> tombstones =
      new LinkedHashMap<>() {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Peer, Boolean> eldest) {
          return size() > TOMBSTONES;
        }
      };

  /**
   * @param self this node's address
   * @param selfUid this node's incarnation
   * @param maxBytes the most bytes of strings (plus 24 per entry) one message carries
   * @param resyncAfterNanos how long a request for a full copy may go unanswered before it is sent
   *     again
   */
  public OwnedReplicas(String self, long selfUid, int maxBytes, long resyncAfterNanos) {
    this(self, selfUid, maxBytes, resyncAfterNanos, System::currentTimeMillis);
  }

  /** Like the four-argument constructor, with {@code wallClock} (epoch millis) for stamps. */
  public OwnedReplicas(
      String self, long selfUid, int maxBytes, long resyncAfterNanos, LongSupplier wallClock) {
    if (maxBytes < 1024) {
      throw new IllegalArgumentException("maxBytes must be at least 1024, was " + maxBytes);
    }
    this.self = self;
    this.selfUid = selfUid;
    this.maxBytes = maxBytes;
    this.resyncAfterNanos = resyncAfterNanos;
    this.wallClock = wallClock;
  }

  /** This node's address. */
  public String self() {
    return self;
  }

  // ---- this node's entries ----

  /** Adds or replaces an entry of this node; sent to the peers at the next {@link #flush}. */
  public void put(ReplicaEntry entry) {
    Bucket bucket = local.computeIfAbsent(entry.key(), Bucket::new);
    ReplicaEntry previous = bucket.put(entry);
    markPending();
    pending.put(new Id(bucket.key, entry.path()), entry);
    if (previous != null) {
      changes.removed(bucket.key, self, previous);
    }
    changes.added(bucket.key, self, entry);
  }

  /** Removes an entry of this node; returns it, or null if there was none. */
  public ReplicaEntry remove(String key, String path) {
    Bucket bucket = local.get(key);
    ReplicaEntry removed = bucket == null ? null : bucket.remove(path);
    if (removed != null) {
      if (bucket.isEmpty()) {
        local.remove(key);
      }
      markPending();
      pending.put(new Id(key, path), null);
      changes.removed(key, self, removed);
    }
    return removed;
  }

  private void markPending() {
    if (pending.isEmpty()) {
      pendingSince = wallClock.getAsLong();
    }
  }

  /** This node's entry {@code (key, path)}, or null. */
  public ReplicaEntry localEntry(String key, String path) {
    Bucket bucket = local.get(key);
    return bucket == null ? null : bucket.get(path);
  }

  /** Sends the changes since the last flush to every peer. */
  public void flush(Outbox outbox) {
    if (pending.isEmpty() || outbound.isEmpty()) {
      pending.clear();
      return;
    }
    Chunker chunker = new Chunker(maxBytes);
    pending.forEach(
        (id, entry) -> {
          if (entry == null) {
            chunker.remove(id.key(), id.path());
          } else {
            chunker.put(entry);
          }
        });
    List<Chunk> chunks = chunker.finish();
    pending.clear();
    outbound.forEach(
        (node, stream) -> {
          Peer peer = new Peer(node, stream.uid);
          for (Chunk c : chunks) {
            outbox.send(peer, c.message(self, selfUid, ++stream.seq, 0, 0, pendingSince));
          }
        });
  }

  /** Sends a full copy of this node's entries to {@code node}'s stream. */
  private void sendCopy(String node, Outbound stream, Outbox outbox) {
    Chunker chunker = new Chunker(maxBytes);
    local.values().forEach(bucket -> bucket.forEach(chunker::put));
    List<Chunk> chunks = chunker.finish();
    Peer peer = new Peer(node, stream.uid);
    for (int i = 0; i < chunks.size(); i++) {
      outbox.send(peer, chunks.get(i).message(self, selfUid, ++stream.seq, i, chunks.size(), 0));
    }
  }

  // ---- peers ----

  /**
   * A member this node should hold the entries of: asks it for a full copy unless this node has one
   * (or asked for one recently).
   */
  public void discover(Peer peer, Outbox outbox, long nowNanos) {
    if (peer.node().equals(self) || tombstones.containsKey(peer)) {
      return;
    }
    Inbound in = inbound.get(peer.node());
    if (in != null && in.uid == peer.uid()) {
      if (!in.synced && (!in.requested || nowNanos - in.requestedNanos > resyncAfterNanos)) {
        request(peer, in, outbox, nowNanos);
      }
      return;
    }
    in = replaceInbound(peer.node(), peer.uid(), nowNanos);
    request(peer, in, outbox, nowNanos);
  }

  /** Asks {@code peer} for a fresh full copy now, whatever this node holds of it. */
  public void requestCopy(Peer peer, Outbox outbox, long nowNanos) {
    if (peer.node().equals(self) || tombstones.containsKey(peer)) {
      return;
    }
    Inbound in = inbound.get(peer.node());
    if (in == null || in.uid != peer.uid()) {
      in = replaceInbound(peer.node(), peer.uid(), nowNanos);
    }
    request(peer, in, outbox, nowNanos);
  }

  /**
   * The peer {@code (node, uid)} was removed from the cluster: drops its entries and stops sending
   * to it; its late messages are ignored.
   *
   * @return how many entries were dropped
   */
  public int removePeer(String node, long uid) {
    tombstones.put(new Peer(node, uid), Boolean.TRUE);
    Outbound out = outbound.get(node);
    if (out != null && out.uid == uid) {
      outbound.remove(node);
    }
    Inbound in = inbound.get(node);
    if (in != null && in.uid == uid) {
      return dropInbound(node);
    }
    return 0;
  }

  /** Drops the entries held of {@code node}, whatever its incarnation (the prune sweep). */
  public int dropNode(String node) {
    outbound.remove(node);
    return inbound.containsKey(node) ? dropInbound(node) : 0;
  }

  private int dropInbound(String node) {
    Inbound in = inbound.remove(node);
    for (String key : in.entries.keySet()) {
      changes.dropped(key, node);
    }
    return in.size;
  }

  private Inbound replaceInbound(String node, long uid, long nowNanos) {
    if (inbound.containsKey(node)) {
      dropInbound(node);
    }
    Inbound in = new Inbound(uid, nowNanos);
    inbound.put(node, in);
    return in;
  }

  private void request(Peer peer, Inbound in, Outbox outbox, long nowNanos) {
    in.requested = true;
    in.requestedNanos = nowNanos;
    in.synced = false;
    in.staging = null;
    outbox.send(peer, new ReplicaMessage.SyncRequest(self, selfUid));
  }

  /** Periodic: tells every peer the last seq sent to it, and asks again for overdue copies. */
  public void tick(Outbox outbox, long nowNanos) {
    outbound.forEach(
        (node, stream) ->
            outbox.send(
                new Peer(node, stream.uid), new ReplicaMessage.Status(self, selfUid, stream.seq)));
    inbound.forEach(
        (node, in) -> {
          if (!in.synced && (!in.requested || nowNanos - in.requestedNanos > resyncAfterNanos)) {
            request(new Peer(node, in.uid), in, outbox, nowNanos);
          }
        });
  }

  // ---- messages from peers ----

  /** Handles a message of another node's core. */
  public void receive(ReplicaMessage message, Outbox outbox, long nowNanos) {
    if (message.from().equals(self)
        || tombstones.containsKey(new Peer(message.from(), message.fromUid()))) {
      return;
    }
    if (message instanceof ReplicaMessage.Entries entries) {
      onEntries(entries, outbox, nowNanos);
    } else if (message instanceof ReplicaMessage.SyncRequest request) {
      Outbound stream = outbound.get(request.from());
      if (stream == null || stream.uid != request.fromUid()) {
        stream = new Outbound(request.fromUid());
        outbound.put(request.from(), stream);
      }
      sendCopy(request.from(), stream, outbox);
    } else if (message instanceof ReplicaMessage.Status status) {
      Inbound in = inbound.get(status.from());
      Peer peer = new Peer(status.from(), status.fromUid());
      if (in == null || in.uid != status.fromUid()) {
        discover(peer, outbox, nowNanos);
      } else if (in.synced && status.lastSeq() > in.lastSeq) {
        request(peer, in, outbox, nowNanos); // the tail of the stream was lost
      }
    } else if (message instanceof ReplicaMessage.Ack ack) {
      Outbound stream = outbound.get(ack.from());
      if (stream != null && stream.uid == ack.fromUid()) {
        stream.acked = Math.max(stream.acked, ack.seq());
      }
    }
  }

  private void onEntries(ReplicaMessage.Entries msg, Outbox outbox, long nowNanos) {
    Peer peer = new Peer(msg.from(), msg.fromUid());
    Inbound in = inbound.get(msg.from());
    if (in == null || in.uid != msg.fromUid()) {
      if (!msg.isSync() || msg.part() != 0) {
        discover(peer, outbox, nowNanos); // changes from a peer this node holds nothing of
        return;
      }
      in = replaceInbound(msg.from(), msg.fromUid(), nowNanos);
    }
    if (msg.isSync()) {
      if (msg.part() == 0) {
        in.staging = new HashMap<>();
        in.stagingSize = 0;
      } else if (in.staging == null || msg.seq() != in.lastSeq + 1) {
        in.lastSeq = Math.max(in.lastSeq, msg.seq());
        if (!in.requested || nowNanos - in.requestedNanos > resyncAfterNanos) {
          request(peer, in, outbox, nowNanos);
        }
        return;
      }
      in.lastSeq = msg.seq();
      in.stagingSize += apply(msg, in.staging, null);
      if (msg.part() == msg.parts() - 1) {
        completeCopy(in);
        completedSyncs.add(msg.from());
        outbox.send(peer, new ReplicaMessage.Ack(self, selfUid, msg.seq()));
      }
      return;
    }
    if (!in.synced || msg.seq() != in.lastSeq + 1) {
      if (in.synced) {
        logGap(msg, in);
        request(peer, in, outbox, nowNanos);
      }
      return;
    }
    in.lastSeq = msg.seq();
    in.size += apply(msg, in.entries, msg.from());
    if (msg.changedAt() > 0 && originCount < MAX_ORIGINS) {
      if (originCount == origins.length) {
        origins = Arrays.copyOf(origins, originCount * 2);
      }
      origins[originCount++] = msg.changedAt();
    }
    outbox.send(peer, new ReplicaMessage.Ack(self, selfUid, msg.seq()));
  }

  private static void logGap(ReplicaMessage.Entries msg, Inbound in) {
    org.slf4j.LoggerFactory.getLogger(OwnedReplicas.class)
        .debug(
            "Message {} of [{}] follows {}: asking for a full copy",
            msg.seq(),
            msg.from(),
            in.lastSeq);
  }

  /** Swaps in a completed copy, marking the keys that changed and keeping unchanged entries. */
  private void completeCopy(Inbound in) {
    Map<String, Bucket> old = in.entries;
    Map<String, Bucket> copy = in.staging;
    for (Bucket bucket : copy.values()) {
      if (bucket.keepUnchanged(old.get(bucket.key))) {
        changes.full(bucket.key);
      }
    }
    for (String key : old.keySet()) {
      if (!copy.containsKey(key)) {
        changes.full(key);
      }
    }
    in.entries = copy;
    in.size = in.stagingSize;
    in.staging = null;
    in.synced = true;
    in.requested = false;
  }

  /**
   * Applies the puts and removals of {@code msg} to {@code entries}; returns the size change.
   * {@code node}: the sender, whose changes are recorded; null for a copy being staged.
   */
  private int apply(ReplicaMessage.Entries msg, Map<String, Bucket> entries, String node) {
    int delta = 0;
    List<String> keys = msg.keys();
    List<String> paths = msg.paths();
    String[] canonicalProtocols = new String[msg.protocols().size()];
    for (int i = 0; i < canonicalProtocols.length; i++) {
      String p = msg.protocols().get(i);
      canonicalProtocols[i] = protocols.computeIfAbsent(p, x -> x);
    }
    for (int i = 0; i < paths.size(); i++) {
      Bucket bucket = entries.computeIfAbsent(keys.get(msg.keyIndex()[i]), Bucket::new);
      ReplicaEntry entry =
          new ReplicaEntry(
              bucket.key,
              canonicalProtocols[msg.protocolIndex()[i]],
              paths.get(i),
              msg.registeredAt()[i],
              msg.extra()[i]);
      ReplicaEntry previous = bucket.put(entry);
      if (previous == null) {
        delta++;
      }
      if (node != null) {
        if (entry.sameAs(previous)) {
          bucket.put(previous); // nothing changed: keep the entry with its cached view
        } else {
          if (previous != null) {
            changes.removed(bucket.key, node, previous);
          }
          changes.added(bucket.key, node, entry);
        }
      }
    }
    List<String> removedPaths = msg.removedPaths();
    for (int i = 0; i < removedPaths.size(); i++) {
      String key = keys.get(msg.removedKeyIndex()[i]);
      Bucket bucket = entries.get(key);
      ReplicaEntry removed = bucket == null ? null : bucket.remove(removedPaths.get(i));
      if (removed != null) {
        delta--;
        if (bucket.isEmpty()) {
          entries.remove(key);
        }
        if (node != null) {
          changes.removed(bucket.key, node, removed);
        }
      }
    }
    return delta;
  }

  // ---- reads for the owning actor ----

  /** Calls {@code action} with every entry of {@code key}: this node's, then each peer's. */
  public void forEach(String key, BiConsumer<String, ReplicaEntry> action) {
    Bucket own = local.get(key);
    if (own != null) {
      own.forEach(e -> action.accept(self, e));
    }
    inbound.forEach(
        (node, in) -> {
          Bucket bucket = in.entries.get(key);
          if (bucket != null) {
            bucket.forEach(e -> action.accept(node, e));
          }
        });
  }

  /**
   * Hands {@code sink} the origin stamps ({@code changedAt}) of the change messages applied since
   * the last call, if any, and forgets them.
   */
  public void takeOrigins(OriginSink sink) {
    if (originCount > 0) {
      int count = originCount;
      originCount = 0;
      sink.accept(origins, count);
    }
  }

  /** The keys that changed since the last take, and forgets their changes. */
  public Set<String> takeDirty() {
    return changes.take().keySet();
  }

  /** What changed per key since the last take (see {@link ReplicaChanges}), and forgets it. */
  public Map<String, ReplicaChanges.Change> takeChanges() {
    return changes.take();
  }

  /** Marks every key {@code node} holds entries of as changed (its reachability changed). */
  public void markNode(String node) {
    Inbound in = inbound.get(node);
    if (in != null) {
      for (String key : in.entries.keySet()) {
        changes.touched(key);
      }
    }
  }

  /** The nodes a full copy arrived from since the last call, and forgets them. */
  public Set<String> takeCompletedSyncs() {
    if (completedSyncs.isEmpty()) {
      return Set.of();
    }
    Set<String> taken = Set.copyOf(completedSyncs);
    completedSyncs.clear();
    return taken;
  }

  /** The nodes this node holds entries of, with when it first heard of each. */
  public Map<String, Long> heldNodes() {
    Map<String, Long> result = new HashMap<>();
    inbound.forEach((node, in) -> result.put(node, in.createdNanos));
    return result;
  }

  /** Whether this node holds a complete copy of {@code peer}'s entries (its incarnation's). */
  public boolean holdsCopyOf(Peer peer) {
    Inbound in = inbound.get(peer.node());
    return in != null && in.uid == peer.uid() && in.synced;
  }

  /** How many entries this node holds of {@code node}; 0 if none. */
  public int heldSize(String node) {
    Inbound in = inbound.get(node);
    return in == null ? 0 : in.size;
  }

  /** The nodes this node sends its changes to, with the last seq sent to each. */
  public Map<String, Long> sent() {
    Map<String, Long> result = new HashMap<>();
    outbound.forEach((node, stream) -> result.put(node, stream.seq));
    return result;
  }

  /** The last seq {@code node} acknowledged; -1 if this node does not send to it. */
  public long acked(String node) {
    Outbound stream = outbound.get(node);
    return stream == null ? -1 : stream.acked;
  }

  /** The distinct keys this node holds entries of, its own included. */
  public Collection<String> keys() {
    Set<String> all = new HashSet<>(local.keySet());
    inbound.values().forEach(in -> all.addAll(in.entries.keySet()));
    return all;
  }

  // ---- message building ----

  /** One message's worth of changes, as columns. */
  private static final class Chunk {
    final List<String> keys = new ArrayList<>();
    final Map<String, Integer> keyIndexes = new HashMap<>();
    final List<String> protocols = new ArrayList<>();
    final Map<String, Integer> protocolIndexes = new HashMap<>();
    int[] keyIndex = new int[16];
    int[] protocolIndex = new int[16];
    final List<String> paths = new ArrayList<>();
    long[] registeredAt = new long[16];
    long[] extra = new long[16];
    int puts;
    int[] removedKeyIndex = new int[16];
    final List<String> removedPaths = new ArrayList<>();
    int removes;
    int bytes;

    boolean full(int maxBytes) {
      return bytes >= maxBytes - HEADROOM;
    }

    private int key(String key) {
      Integer index = keyIndexes.get(key);
      if (index == null) {
        index = keys.size();
        keys.add(key);
        keyIndexes.put(key, index);
        bytes += utf8Length(key) + 4;
      }
      return index;
    }

    void put(ReplicaEntry entry) {
      if (puts == keyIndex.length) {
        keyIndex = Arrays.copyOf(keyIndex, puts * 2);
        protocolIndex = Arrays.copyOf(protocolIndex, puts * 2);
        registeredAt = Arrays.copyOf(registeredAt, puts * 2);
        extra = Arrays.copyOf(extra, puts * 2);
      }
      keyIndex[puts] = key(entry.key());
      Integer p = protocolIndexes.get(entry.protocol());
      if (p == null) {
        p = protocols.size();
        protocols.add(entry.protocol());
        protocolIndexes.put(entry.protocol(), p);
        bytes += utf8Length(entry.protocol()) + 4;
      }
      protocolIndex[puts] = p;
      paths.add(entry.path());
      registeredAt[puts] = entry.registeredAt();
      extra[puts] = entry.extra();
      puts++;
      bytes += utf8Length(entry.path()) + 24;
    }

    void remove(String key, String path) {
      if (removes == removedKeyIndex.length) {
        removedKeyIndex = Arrays.copyOf(removedKeyIndex, removes * 2);
      }
      removedKeyIndex[removes++] = key(key);
      removedPaths.add(path);
      bytes += utf8Length(path) + 8;
    }

    private ReplicaMessage.Entries columns; // built once, shared by the messages to every peer

    /** The chunk as a message; its columns are copied once, whatever the number of peers. */
    ReplicaMessage.Entries message(
        String from, long uid, long seq, int part, int parts, long changedAt) {
      if (columns == null) {
        columns =
            new ReplicaMessage.Entries(
                from,
                uid,
                0,
                0,
                0,
                0,
                List.copyOf(keys),
                List.copyOf(protocols),
                Arrays.copyOf(keyIndex, puts),
                Arrays.copyOf(protocolIndex, puts),
                List.copyOf(paths),
                Arrays.copyOf(registeredAt, puts),
                Arrays.copyOf(extra, puts),
                Arrays.copyOf(removedKeyIndex, removes),
                List.copyOf(removedPaths));
      }
      ReplicaMessage.Entries c = columns;
      return new ReplicaMessage.Entries(
          from,
          uid,
          seq,
          part,
          parts,
          changedAt,
          c.keys(),
          c.protocols(),
          c.keyIndex(),
          c.protocolIndex(),
          c.paths(),
          c.registeredAt(),
          c.extra(),
          c.removedKeyIndex(),
          c.removedPaths());
    }
  }

  /** Splits changes into chunks below the byte limit. */
  private static final class Chunker {
    private final int maxBytes;
    private final List<Chunk> chunks = new ArrayList<>();
    private Chunk current = new Chunk();

    Chunker(int maxBytes) {
      this.maxBytes = maxBytes;
    }

    private Chunk chunk() {
      if (current.full(maxBytes)) {
        chunks.add(current);
        current = new Chunk();
      }
      return current;
    }

    void put(ReplicaEntry entry) {
      chunk().put(entry);
    }

    void remove(String key, String path) {
      chunk().remove(key, path);
    }

    /** The chunks, the last one possibly empty (a copy of nothing is still one message). */
    List<Chunk> finish() {
      chunks.add(current);
      return chunks;
    }
  }

  /** Room a chunk leaves below its limit for one more entry (a key and a path of 2 KiB each). */
  private static final int HEADROOM = 4096 + 64;

  /** UTF-8 length of {@code s} without encoding it (ASCII fast path). */
  static int utf8Length(String s) {
    int n = s.length();
    for (int i = 0; i < n; i++) {
      if (s.charAt(i) >= 0x80) {
        return s.getBytes(StandardCharsets.UTF_8).length;
      }
    }
    return n;
  }
}
