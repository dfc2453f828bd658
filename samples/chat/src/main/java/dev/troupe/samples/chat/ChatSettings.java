package dev.troupe.samples.chat;

import com.typesafe.config.Config;
import java.time.Duration;
import java.util.List;

/**
 * The chat sample's settings, {@code chat} in {@code application.conf}.
 *
 * @param host the HTTP interface
 * @param port the HTTP port; 0 = any free port
 * @param historySize messages kept per room
 * @param maxMessageChars the longest message text accepted
 * @param maxFrameBytes the largest WebSocket message accepted; larger ones close the connection
 * @param ratePerSecond messages a connection may post per second
 * @param idleRoomTimeout rooms without a post for this long are closed by the cron job
 * @param archiveAfter messages older than this are archived
 * @param archiveInterval how often the archiver runs
 * @param allowedOrigins origins allowed besides the page's own
 * @param dashboardInterval how often the dashboard snapshot is refreshed
 * @param ackTimeout a post without an acknowledgement or a refusal from its room after this gets an
 *     error naming it: its fate is unknown (a room's node died with it in flight)
 * @param limits what one client and the node may hold open ({@code chat.limits})
 */
record ChatSettings(
    String host,
    int port,
    int historySize,
    int maxMessageChars,
    int maxFrameBytes,
    int ratePerSecond,
    Duration idleRoomTimeout,
    Duration archiveAfter,
    Duration archiveInterval,
    List<String> allowedOrigins,
    Duration dashboardInterval,
    Duration ackTimeout,
    Limits limits) {

  /**
   * {@code chat.limits}: what one client, one remote address and the node may hold.
   *
   * @param roomsPerConnection rooms one WebSocket connection may be in at once
   * @param connectionsPerAddress open connections (HTTP and WebSocket) from one remote address; 0 =
   *     no limit (behind a proxy every client has the proxy's address)
   * @param connectionsPerNode open WebSocket connections (chat and dashboard) on this node
   * @param firstRequestTimeout a new connection must have sent its first complete request head
   *     within this, or it is closed (a slow drip of header bytes is not activity)
   */
  record Limits(
      int roomsPerConnection,
      int connectionsPerAddress,
      int connectionsPerNode,
      Duration firstRequestTimeout) {
    Limits {
      if (roomsPerConnection < 1) {
        throw new IllegalArgumentException(
            "chat.limits.rooms-per-connection must be at least 1, got " + roomsPerConnection);
      }
      if (connectionsPerAddress < 0) {
        throw new IllegalArgumentException(
            "chat.limits.connections-per-address must be 0 (no limit) or positive, got "
                + connectionsPerAddress);
      }
      if (connectionsPerNode < 1) {
        throw new IllegalArgumentException(
            "chat.limits.connections-per-node must be at least 1, got " + connectionsPerNode);
      }
      if (firstRequestTimeout.isZero() || firstRequestTimeout.isNegative()) {
        throw new IllegalArgumentException(
            "chat.limits.first-request-timeout must be positive, got " + firstRequestTimeout);
      }
    }

    static Limits fromConfig(Config limits) {
      return new Limits(
          limits.getInt("rooms-per-connection"),
          limits.getInt("connections-per-address"),
          limits.getInt("connections-per-node"),
          limits.getDuration("first-request-timeout"));
    }
  }

  ChatSettings {
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("chat.http.port must be 0..65535, got " + port);
    }
    if (historySize < 1 || maxMessageChars < 1 || maxFrameBytes < 64 || ratePerSecond < 1) {
      throw new IllegalArgumentException(
          "chat.history-size, max-message-chars, rate-limit-per-second must be positive and"
              + " chat.max-frame-bytes at least 64");
    }
    if (ackTimeout.compareTo(Duration.ofMillis(100)) < 0) {
      throw new IllegalArgumentException(
          "chat.ack-timeout must be at least 100 ms, got " + ackTimeout);
    }
    allowedOrigins = List.copyOf(allowedOrigins);
  }

  static ChatSettings fromConfig(Config config) {
    Config c = config.getConfig("chat");
    return new ChatSettings(
        c.getString("http.host"),
        c.getInt("http.port"),
        c.getInt("history-size"),
        c.getInt("max-message-chars"),
        c.getInt("max-frame-bytes"),
        c.getInt("rate-limit-per-second"),
        c.getDuration("idle-room-timeout"),
        c.getDuration("archive-after"),
        c.getDuration("archive-interval"),
        c.getStringList("allowed-origins"),
        c.getDuration("dashboard-interval"),
        c.getDuration("ack-timeout"),
        Limits.fromConfig(c.getConfig("limits")));
  }
}
