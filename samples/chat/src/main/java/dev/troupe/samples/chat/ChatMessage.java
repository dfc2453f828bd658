package dev.troupe.samples.chat;

import dev.troupe.core.TroupeSerializable;

/**
 * One posted message.
 *
 * @param room the room id
 * @param seq its number in the room, from 1
 * @param user who posted it
 * @param text what was posted
 * @param at when the room accepted it, epoch millis
 */
record ChatMessage(String room, long seq, String user, String text, long at)
    implements TroupeSerializable {}
