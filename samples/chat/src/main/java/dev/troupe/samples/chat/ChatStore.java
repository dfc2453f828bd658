package dev.troupe.samples.chat;

import dev.troupe.core.storage.Storage;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/** The chat's JDBC work: the message log and its archive. Blocking: call it off the actors. */
final class ChatStore {
  private final Storage storage;

  ChatStore(Storage storage) {
    this.storage = storage;
    storage.ensureSchema(new ChatSchema());
  }

  /** Appends posted messages to the log (ignoring ones already there). */
  void append(List<ChatMessage> messages) {
    try (Connection c = storage.dataSource().getConnection();
        PreparedStatement insert =
            c.prepareStatement(
                "INSERT INTO chat_message (room, seq, author, body, posted_at) VALUES (?, ?, ?, ?, ?)")) {
      for (ChatMessage m : messages) {
        insert.setString(1, m.room());
        insert.setLong(2, m.seq());
        insert.setString(3, m.user());
        insert.setString(4, m.text());
        insert.setLong(5, m.at());
        try {
          insert.executeUpdate();
        } catch (SQLException e) {
          if (e.getSQLState() == null || !e.getSQLState().startsWith("23")) {
            throw e;
          }
        }
      }
    } catch (SQLException e) {
      throw new IllegalStateException("cannot log messages: " + e.getMessage(), e);
    }
  }

  /** Up to {@code limit} logged messages posted before {@code beforeMillis}, oldest first. */
  List<ChatMessage> olderThan(long beforeMillis, int limit) {
    try (Connection c = storage.dataSource().getConnection();
        PreparedStatement s =
            c.prepareStatement(
                "SELECT room, seq, author, body, posted_at FROM chat_message WHERE posted_at < ?"
                    + " ORDER BY posted_at, room, seq LIMIT "
                    + limit)) {
      s.setLong(1, beforeMillis);
      List<ChatMessage> messages = new ArrayList<>();
      try (ResultSet rs = s.executeQuery()) {
        while (rs.next()) {
          messages.add(
              new ChatMessage(
                  rs.getString(1), rs.getLong(2), rs.getString(3), rs.getString(4), rs.getLong(5)));
        }
      }
      return messages;
    } catch (SQLException e) {
      throw new IllegalStateException("cannot read the message log: " + e.getMessage(), e);
    }
  }

  /** Moves one message from the log to the archive, in one transaction. */
  void archive(ChatMessage m) {
    try (Connection c = storage.dataSource().getConnection()) {
      c.setAutoCommit(false);
      try (PreparedStatement insert =
              c.prepareStatement(
                  "INSERT INTO chat_archive (room, seq, author, body, posted_at) VALUES (?, ?, ?, ?, ?)");
          PreparedStatement delete =
              c.prepareStatement("DELETE FROM chat_message WHERE room = ? AND seq = ?")) {
        insert.setString(1, m.room());
        insert.setLong(2, m.seq());
        insert.setString(3, m.user());
        insert.setString(4, m.text());
        insert.setLong(5, m.at());
        insert.executeUpdate();
        delete.setString(1, m.room());
        delete.setLong(2, m.seq());
        delete.executeUpdate();
        c.commit();
      } catch (SQLException e) {
        c.rollback();
        throw e;
      }
    } catch (SQLException e) {
      throw new IllegalStateException(
          "cannot archive " + m.room() + "#" + m.seq() + ": " + e.getMessage(), e);
    }
  }

  /** How many messages the archive holds. */
  long archived() {
    try (Connection c = storage.dataSource().getConnection();
        PreparedStatement s = c.prepareStatement("SELECT COUNT(*) FROM chat_archive");
        ResultSet rs = s.executeQuery()) {
      rs.next();
      return rs.getLong(1);
    } catch (SQLException e) {
      throw new IllegalStateException("cannot count the archive: " + e.getMessage(), e);
    }
  }
}
