package dev.troupe.samples.chat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** The tests' plain HTTP calls to a chat node on loopback. */
final class ChatHttp {
  private static final ObjectMapper JSON = new ObjectMapper();

  private ChatHttp() {}

  /** GET {@code path} on the node at {@code port}, with a 10 s timeout. */
  static HttpResponse<String> get(int port, String path) throws IOException, InterruptedException {
    return HttpClient.newHttpClient()
        .send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(10))
                .build(),
            HttpResponse.BodyHandlers.ofString());
  }

  /** The node's dashboard snapshot; an empty object while it does not answer (ask again). */
  static JsonNode dashboard(int port) {
    try {
      return JSON.readTree(get(port, "/api/dashboard").body());
    } catch (Exception e) {
      return JSON.createObjectNode(); // not answering yet: the caller asks again
    }
  }

  /** The addresses of the members Pekko Management's {@code /cluster/members} lists as Up. */
  static java.util.Set<String> upMembers(int managementPort)
      throws IOException, InterruptedException {
    JsonNode members = JSON.readTree(get(managementPort, "/cluster/members").body());
    java.util.Set<String> up = new java.util.TreeSet<>();
    members
        .path("members")
        .forEach(
            m -> {
              if (m.path("status").asText().equals("Up")) {
                up.add(m.path("node").asText());
              }
            });
    return up;
  }
}
