package dev.troupe.samples.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Issue 20, item 5: with troupe.security.access-token set, the dashboard, its JSON and feed, the
 * metrics and Management's endpoints other than the probes need the token; the chat page and its
 * WebSocket do not.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
final class ChatOperatorTokenIT {
  private static final String TOKEN = "chat-operator-token-for-the-test";
  private static final HttpClient HTTP =
      HttpClient.newBuilder()
          .connectTimeout(Duration.ofSeconds(5))
          .followRedirects(HttpClient.Redirect.NEVER)
          .build();
  private ChatCluster chat;

  @BeforeAll
  void start() {
    chat = new ChatCluster(1, "troupe.security.access-token = \"" + TOKEN + "\"");
  }

  @AfterAll
  void stop() {
    if (chat != null) {
      chat.close();
    }
  }

  private HttpResponse<String> get(String path, String header, String value) throws Exception {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + chat.port(0) + path))
            .timeout(Duration.ofSeconds(10));
    if (header != null) {
      request.header(header, value);
    }
    return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void theDashboardItsJsonAndTheMetricsNeedTheToken() throws Exception {
    for (String path : new String[] {"/dashboard", "/api/dashboard", "/metrics"}) {
      HttpResponse<String> anonymous = get(path, null, null);
      assertEquals(401, anonymous.statusCode(), path + " without the token");
      assertTrue(anonymous.body().contains("troupe.security.access-token"), anonymous.body());
      assertEquals(401, get(path, "Authorization", "Bearer not-the-token").statusCode(), path);
      assertEquals(
          200, get(path, "Authorization", "Bearer " + TOKEN).statusCode(), path + " with it");
    }
    assertEquals(200, get("/", null, null).statusCode(), "the chat page needs no token");
  }

  @Test
  void aBrowserOpensTheDashboardOnceWithTheTokenAndThenHoldsItInAnHttpOnlyCookie()
      throws Exception {
    assertEquals(401, get("/dashboard?token=wrong", null, null).statusCode());
    HttpResponse<String> opened = get("/dashboard?token=" + TOKEN, null, null);
    assertEquals(303, opened.statusCode(), "redirected to drop the token from the address");
    assertEquals("/dashboard", opened.headers().firstValue("Location").orElse(""));
    String cookie = opened.headers().firstValue("Set-Cookie").orElseThrow();
    assertTrue(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), cookie);
    String pair = cookie.substring(0, cookie.indexOf(';'));
    assertEquals(200, get("/dashboard", "Cookie", pair).statusCode(), "the page with the cookie");
    assertEquals(401, get("/dashboard", "Cookie", "troupe-operator=forged").statusCode());

    // the dashboard's feed: refused without the token, upgraded with the cookie
    int port = chat.port(0);
    String refused = RawHttp.refusedUpgrade("127.0.0.1", port, "/dashboard/ws");
    assertTrue(refused.startsWith("HTTP/1.1 401"), refused);
    // each throws an AssertionError with the answer unless the server switches protocols
    RawHttp.upgrade("127.0.0.1", port, "/dashboard/ws", "Cookie: " + pair + "\r\n").close();
    RawHttp.upgrade("127.0.0.1", port, "/ws").close(); // the chat's WebSocket needs no token
  }

  @Test
  void managementNeedsTheTokenExceptForTheProbes() throws Exception {
    URI management = chat.node(0).managementUri().orElseThrow();
    HttpResponse<String> ready =
        HTTP.send(
            HttpRequest.newBuilder(management.resolve("/ready")).build(),
            HttpResponse.BodyHandlers.ofString());
    assertTrue(ready.statusCode() == 200 || ready.statusCode() == 500, "/ready answers: " + ready);
    HttpResponse<String> members =
        HTTP.send(
            HttpRequest.newBuilder(management.resolve("/cluster/members")).build(),
            HttpResponse.BodyHandlers.ofString());
    assertEquals(401, members.statusCode(), "/cluster/members without the token");
    HttpResponse<String> operator =
        HTTP.send(
            HttpRequest.newBuilder(management.resolve("/cluster/members"))
                .header("Authorization", "Bearer " + TOKEN)
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertEquals(200, operator.statusCode(), "/cluster/members with the token");
  }
}
