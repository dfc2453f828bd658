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
    Duration dashboardInterval) {

  ChatSettings {
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("chat.http.port must be 0..65535, got " + port);
    }
    if (historySize < 1 || maxMessageChars < 1 || maxFrameBytes < 64 || ratePerSecond < 1) {
      throw new IllegalArgumentException(
          "chat.history-size, max-message-chars, rate-limit-per-second must be positive and"
              + " chat.max-frame-bytes at least 64");
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
        c.getDuration("dashboard-interval"));
  }
}
