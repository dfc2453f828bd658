package dev.troupe.daemons.internal;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * INTERNAL API. Daemon arguments as JSON values: converted once, where they are given, so that a
 * value Jackson cannot write fails there with a clear error, and nothing on the wire names a class.
 */
public final class DaemonArgs {
  private static final ObjectMapper MAPPER = new ObjectMapper().findAndRegisterModules();

  private DaemonArgs() {}

  /**
   * {@code args} as JSON values (String, Integer/Long/Double, Boolean, List, Map, null).
   *
   * @throws IllegalArgumentException naming the daemon and the argument if one cannot be written
   */
  public static List<Object> normalize(String daemon, List<?> args) {
    List<Object> values = new ArrayList<>(args.size());
    for (int i = 0; i < args.size(); i++) {
      Object arg = args.get(i);
      try {
        values.add(arg == null ? null : MAPPER.convertValue(arg, Object.class));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            "argument "
                + i
                + " of daemon ["
                + daemon
                + "] ("
                + arg.getClass().getName()
                + ") cannot be written as JSON: "
                + e.getMessage(),
            e);
      }
    }
    return Collections.unmodifiableList(values);
  }

  /** {@code args} as one JSON document, for the daemons table. */
  public static String toJson(List<Object> args) {
    try {
      return MAPPER.writeValueAsString(args);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalArgumentException(
          "daemon arguments cannot be written: " + e.getMessage(), e);
    }
  }

  /** The arguments stored by {@link #toJson}. */
  @SuppressWarnings("unchecked")
  public static List<Object> fromJson(String json) {
    try {
      return MAPPER.readValue(json, List.class);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalArgumentException(
          "stored daemon arguments are not JSON: " + e.getMessage(), e);
    }
  }
}
