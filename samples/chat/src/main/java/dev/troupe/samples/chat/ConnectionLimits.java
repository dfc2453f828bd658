package dev.troupe.samples.chat;

import java.net.InetAddress;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What the node's clients hold open: connections per remote address ({@code
 * chat.limits.connections-per-address}) and WebSockets on the node ({@code
 * chat.limits.connections-per-node}). Each admitted connection or WebSocket holds a {@link Lease}
 * until it ends; an address's entry is removed when its last lease is released, so the map holds
 * only addresses with something open.
 *
 * <p>An HTTP connection takes a lease when it is accepted and releases it when its HTTP side ends,
 * which for a WebSocket is at the upgrade; the WebSocket then takes a lease of its own, counted
 * against the address without a check (its connection was admitted already), so an address's count
 * is its open HTTP connections plus its WebSockets.
 */
final class ConnectionLimits {
  private final int perAddress;
  private final int perNode;
  private final ConcurrentHashMap<InetAddress, Integer> byAddress = new ConcurrentHashMap<>();
  private final AtomicInteger webSockets = new AtomicInteger();

  /**
   * @param perAddress open connections and WebSockets one address may hold; 0 = no limit
   * @param perNode open WebSockets on the node
   */
  ConnectionLimits(int perAddress, int perNode) {
    this.perAddress = perAddress;
    this.perNode = perNode;
  }

  /** A new connection from {@code address}, or empty if the address holds its maximum. */
  Optional<Lease> openConnection(InetAddress address) {
    return takeAddress(address)
        ? Optional.of(new Lease(() -> releaseAddress(address)))
        : Optional.empty();
  }

  /** Whether the node holds its maximum of WebSockets (checked before an upgrade is answered). */
  boolean webSocketsFull() {
    return webSockets.get() >= perNode;
  }

  /**
   * A new WebSocket from {@code address} (on a connection admitted already), or empty if the node
   * holds its maximum: a race between upgrades that all passed {@link #webSocketsFull()}.
   */
  Optional<Lease> openWebSocket(InetAddress address) {
    if (webSockets.incrementAndGet() > perNode) {
      webSockets.decrementAndGet();
      return Optional.empty();
    }
    byAddress.merge(address, 1, Integer::sum);
    return Optional.of(
        new Lease(
            () -> {
              releaseAddress(address);
              webSockets.decrementAndGet();
            }));
  }

  /** Open WebSockets on this node. */
  int webSockets() {
    return webSockets.get();
  }

  /** What {@code address} holds open (connections and WebSockets). */
  int held(InetAddress address) {
    return byAddress.getOrDefault(address, 0);
  }

  /** Addresses that hold anything open. */
  int addresses() {
    return byAddress.size();
  }

  int perAddress() {
    return perAddress;
  }

  int perNode() {
    return perNode;
  }

  private boolean takeAddress(InetAddress address) {
    boolean[] taken = new boolean[1];
    byAddress.compute(
        address,
        (a, held) -> {
          int n = held == null ? 0 : held;
          if (perAddress > 0 && n >= perAddress) {
            return held;
          }
          taken[0] = true;
          return n + 1;
        });
    return taken[0];
  }

  private void releaseAddress(InetAddress address) {
    byAddress.computeIfPresent(address, (a, held) -> held <= 1 ? null : held - 1);
  }

  /** One admitted connection or WebSocket; {@link #release()} is idempotent. */
  static final class Lease {
    private final Runnable onRelease;
    private final AtomicBoolean released = new AtomicBoolean();

    private Lease(Runnable onRelease) {
      this.onRelease = onRelease;
    }

    void release() {
      if (released.compareAndSet(false, true)) {
        onRelease.run();
      }
    }
  }
}
