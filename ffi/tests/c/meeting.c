/*
 * A meeting through the C ABI only (include/meetkey.h): Alice creates a meeting, adds Bob,
 * they compare security codes, exchange encrypted frames, Bob rotates, and a frame of the
 * previous epoch still decrypts. Compiled with the system C compiler and run by
 * ffi/tests/c_meeting.rs. Exits 0 when every check passes.
 */
#include <stdio.h>
#include <string.h>

#include "meetkey.h"

/* The clock of this test (Unix seconds, 2027-01-15): time is an input of the ABI. */
#define NOW 1800000000ULL

static int failures = 0;

#define CHECK(call, want)                                                                    \
    do {                                                                                     \
        MeetkeyResult r_ = (call);                                                           \
        if (r_ != (want)) {                                                                  \
            fprintf(stderr, "%s:%d: %s returned %s, want %s\n", __FILE__, __LINE__, #call,   \
                    meetkey_result_name(r_), meetkey_result_name(want));                     \
            failures++;                                                                      \
            goto done;                                                                       \
        }                                                                                    \
    } while (0)

#define EXPECT(cond)                                                                         \
    do {                                                                                     \
        if (!(cond)) {                                                                       \
            fprintf(stderr, "%s:%d: expected %s\n", __FILE__, __LINE__, #cond);              \
            failures++;                                                                      \
            goto done;                                                                       \
        }                                                                                    \
    } while (0)

/* Whether needle occurs in haystack (portable memmem). */
static int contains(const uint8_t *hay, size_t hay_len, const char *needle, size_t n) {
    for (size_t i = 0; n <= hay_len && i <= hay_len - n; i++)
        if (memcmp(hay + i, needle, n) == 0) return 1;
    return 0;
}

/* Takes the outbox's handshake message into buf (asking for the length first). */
static MeetkeyResult take(MeetkeyMeeting *m, int welcome, uint8_t *buf, size_t cap, size_t *len) {
    MeetkeyResult r = welcome ? meetkey_meeting_take_welcome(m, NULL, 0, len)
                              : meetkey_meeting_take_handshake(m, NULL, 0, len);
    if (r != MEETKEY_BUFFER_TOO_SHORT) return r;
    if (*len > cap) return MEETKEY_BUFFER_TOO_SHORT;
    return welcome ? meetkey_meeting_take_welcome(m, buf, cap, len)
                   : meetkey_meeting_take_handshake(m, buf, cap, len);
}

int main(void) {
    static uint8_t commit[65536], welcome[65536], kp_bytes[4096];
    size_t commit_len = 0, welcome_len = 0, kp_len = 0;
    MeetkeyKeyPackage *alice_kp = NULL, *bob_kp = NULL;
    MeetkeyMeeting *alice = NULL, *bob = NULL;
    const uint8_t meta[] = "rtp-header";
    const size_t meta_len = sizeof meta - 1;

    /* Alice creates the meeting: home eu-west, relays in CN and RU excluded. */
    CHECK(meetkey_key_package_new((const uint8_t *)"alice", 5, NOW, &alice_kp), MEETKEY_OK);
    CHECK(meetkey_meeting_create(&alice_kp, (const uint8_t *)"c-meeting", 9, "eu-west", "CN,RU", &alice),
          MEETKEY_OK);
    EXPECT(alice_kp == NULL);
    CHECK(meetkey_meeting_create(NULL, NULL, 0, "eu-west", "", &alice), MEETKEY_NULL_POINTER);

    /* Bob publishes a KeyPackage; Alice adds him. */
    CHECK(meetkey_key_package_new((const uint8_t *)"bob", 3, NOW, &bob_kp), MEETKEY_OK);
    CHECK(meetkey_key_package_encode(bob_kp, kp_bytes, 8, &kp_len), MEETKEY_BUFFER_TOO_SHORT);
    EXPECT(kp_len > 8 && kp_len <= sizeof kp_bytes);
    CHECK(meetkey_key_package_encode(bob_kp, kp_bytes, sizeof kp_bytes, &kp_len), MEETKEY_OK);
    CHECK(meetkey_meeting_add(alice, kp_bytes, kp_len, NOW), MEETKEY_OK);
    CHECK(take(alice, 0, commit, sizeof commit, &commit_len), MEETKEY_OK);
    /* No Welcome before the commit is confirmed: a joiner never enters an epoch that did
       not happen. */
    CHECK(take(alice, 1, welcome, sizeof welcome, &welcome_len), MEETKEY_NOTHING_PENDING);
    /* The delivery service echoes the commit back: that confirms it. */
    CHECK(meetkey_meeting_process(alice, commit, commit_len), MEETKEY_OK);
    CHECK(take(alice, 1, welcome, sizeof welcome, &welcome_len), MEETKEY_OK);
    CHECK(meetkey_meeting_join_welcome(&bob_kp, welcome, welcome_len, &bob), MEETKEY_OK);

    uint32_t count = 0;
    CHECK(meetkey_meeting_participant_count(alice, &count), MEETKEY_OK);
    EXPECT(count == 2);

    /* Both read the same security code aloud. */
    char code_a[48], code_b[48], tiny[4];
    size_t code_len = 0;
    CHECK(meetkey_meeting_security_code(alice, tiny, sizeof tiny, &code_len), MEETKEY_BUFFER_TOO_SHORT);
    EXPECT(code_len == sizeof code_a);
    CHECK(meetkey_meeting_security_code(alice, code_a, sizeof code_a, &code_len), MEETKEY_OK);
    CHECK(meetkey_meeting_security_code(bob, code_b, sizeof code_b, &code_len), MEETKEY_OK);
    EXPECT(strcmp(code_a, code_b) == 0);
    printf("security code (epoch 1): %s\n", code_a);

    /* Alice sends a frame; Bob decrypts it. */
    const char *hello = "audio frame from alice";
    uint8_t frame[256], plain[256];
    size_t frame_len = 0, plain_len = 0;
    uint32_t sender = 99;
    uint64_t epoch = 99;
    CHECK(meetkey_meeting_encrypt(alice, 0, meta, meta_len, (const uint8_t *)hello, strlen(hello), frame, 4,
                                  &frame_len),
          MEETKEY_BUFFER_TOO_SHORT);
    EXPECT(frame_len > strlen(hello));
    CHECK(meetkey_meeting_encrypt(alice, 0, meta, meta_len, (const uint8_t *)hello, strlen(hello), frame,
                                  sizeof frame, &frame_len),
          MEETKEY_OK);
    EXPECT(!contains(frame, frame_len, hello, strlen(hello))); /* ciphertext only */
    CHECK(meetkey_meeting_decrypt(bob, meta, meta_len, frame, frame_len, NOW, plain, sizeof plain, &plain_len,
                                  &sender, &epoch),
          MEETKEY_OK);
    EXPECT(plain_len == strlen(hello) && memcmp(plain, hello, plain_len) == 0);
    EXPECT(sender == 0 && epoch == 1);
    /* A replay is refused; a flipped bit fails authentication. */
    CHECK(meetkey_meeting_decrypt(bob, meta, meta_len, frame, frame_len, NOW, plain, sizeof plain, &plain_len,
                                  NULL, NULL),
          MEETKEY_STALE);

    /* Alice sends one more frame in epoch 1, still in flight when Bob rotates. */
    uint8_t late[256];
    size_t late_len = 0;
    CHECK(meetkey_meeting_encrypt(alice, 0, meta, meta_len, (const uint8_t *)"late", 4, late, sizeof late,
                                  &late_len),
          MEETKEY_OK);

    /* Bob rotates his keys; the server confirms; Alice processes the commit. */
    CHECK(meetkey_meeting_rotate(bob, NOW), MEETKEY_OK);
    CHECK(take(bob, 0, commit, sizeof commit, &commit_len), MEETKEY_OK);
    CHECK(meetkey_meeting_process(bob, commit, commit_len), MEETKEY_OK);
    CHECK(meetkey_meeting_process(alice, commit, commit_len), MEETKEY_OK);
    uint64_t ea = 0, eb = 0;
    CHECK(meetkey_meeting_epoch(alice, &ea), MEETKEY_OK);
    CHECK(meetkey_meeting_epoch(bob, &eb), MEETKEY_OK);
    EXPECT(ea == 2 && eb == 2);
    CHECK(meetkey_meeting_security_code(alice, code_b, sizeof code_b, &code_len), MEETKEY_OK);
    EXPECT(strcmp(code_a, code_b) != 0);
    printf("security code (epoch 2): %s\n", code_b);

    /* Frames of the new epoch flow both ways; the late epoch-1 frame still decrypts. */
    const char *reply = "video frame from bob";
    CHECK(meetkey_meeting_encrypt(bob, 1 /* video */, meta, meta_len, (const uint8_t *)reply, strlen(reply), frame,
                                  sizeof frame, &frame_len),
          MEETKEY_OK);
    CHECK(meetkey_meeting_decrypt(alice, meta, meta_len, frame, frame_len, NOW, plain, sizeof plain, &plain_len,
                                  &sender, &epoch),
          MEETKEY_OK);
    EXPECT(plain_len == strlen(reply) && memcmp(plain, reply, plain_len) == 0 && epoch == 2);
    CHECK(meetkey_meeting_decrypt(bob, meta, meta_len, late, late_len, NOW, plain, sizeof plain, &plain_len,
                                  &sender, &epoch),
          MEETKEY_OK);
    EXPECT(plain_len == 4 && memcmp(plain, "late", 4) == 0 && epoch == 1);
    late[late_len - 1] ^= 1;
    CHECK(meetkey_meeting_decrypt(alice, meta, meta_len, late, late_len, NOW, plain, sizeof plain, &plain_len,
                                  NULL, NULL),
          MEETKEY_STALE); /* Alice's own KID: encryption-only for her */

    /* Events: Alice saw Bob join and Bob rotate. */
    MeetkeyEventKind kind;
    uint32_t leaf;
    int saw_join = 0, saw_rotation = 0;
    for (int i = 0; i < 32 && meetkey_meeting_next_event(alice, &kind, &epoch, &leaf) == MEETKEY_OK; i++) {
        if (kind == MEETKEY_EVENT_PARTICIPANT_JOINED) saw_join = 1;
        if (kind == MEETKEY_EVENT_ROTATED && leaf == 1) saw_rotation = 1;
    }
    EXPECT(saw_join && saw_rotation);
    printf("C meeting: OK\n");

done:
    meetkey_key_package_free(alice_kp);
    meetkey_key_package_free(bob_kp);
    meetkey_meeting_free(alice);
    meetkey_meeting_free(bob);
    return failures == 0 ? 0 : 1;
}
