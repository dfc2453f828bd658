package dev.troupe.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import java.util.Optional;
import org.junit.jupiter.api.Test;

final class AccessTokenTest {
  private final AccessToken token = AccessToken.of("s3cret-operator-token");

  @Test
  void acceptsOnlyTheTokenItself() {
    assertTrue(token.isSet());
    assertTrue(token.accepts("s3cret-operator-token"));
    assertFalse(token.accepts("s3cret-operator-toke"));
    assertFalse(token.accepts("s3cret-operator-token "));
    assertFalse(token.accepts(""));
    assertFalse(token.accepts(null));
  }

  @Test
  void readsABearerAuthorizationHeader() {
    assertTrue(token.acceptsAuthorization(Optional.of("Bearer s3cret-operator-token")));
    assertTrue(token.acceptsAuthorization(Optional.of("bearer s3cret-operator-token")));
    assertFalse(token.acceptsAuthorization(Optional.of("Basic s3cret-operator-token")));
    assertFalse(token.acceptsAuthorization(Optional.of("Bearer wrong")));
    assertFalse(token.acceptsAuthorization(Optional.of("Bearer")));
    assertFalse(token.acceptsAuthorization(Optional.empty()));
  }

  @Test
  void noTokenAcceptsNothingAndTheSettingIsRead() {
    AccessToken none = AccessToken.fromConfig(ConfigFactory.parseString("a = 1"));
    assertFalse(none.isSet());
    assertFalse(none.accepts(""));
    AccessToken configured =
        AccessToken.fromConfig(
            ConfigFactory.parseString("troupe.security.access-token = \"from-config-token\""));
    assertTrue(configured.accepts("from-config-token"));
    assertEquals("AccessToken[set]", configured.toString(), "the token is never shown");
  }
}
