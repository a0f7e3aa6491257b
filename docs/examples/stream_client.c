/*
 * Follow a Simpul node's stream with libsimpul-stream and print one line per event:
 *
 *   cc stream_client.c $(pkg-config --cflags --libs simpul-stream) -o stream_client
 *   ./stream_client tcp://node:7501 tcp://node:7502 35.77. [FROM [COUNT]]
 *
 * Prints "<offset> <topic> <origin> <seq> <live|replay>" and, at the end, the offset to resume
 * from. Stops after COUNT events (0: never) or 3 s without any.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <simpul/stream.h>

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: %s STREAM_URL REPLAY_URL PREFIX [FROM [COUNT]]\n", argv[0]);
        return 2;
    }
    uint64_t from = argc > 4 ? strtoull(argv[4], NULL, 10) : 1;
    long count = argc > 5 ? strtol(argv[5], NULL, 10) : 0, seen = 0, idle_ms = 0;
    simpul_stream *s;
    int rc = simpul_stream_open(&s, argv[1], argv[2], argv[3], from);
    if (rc != SIMPUL_STREAM_OK) {
        fprintf(stderr, "open: %s\n", simpul_stream_strerror(rc));
        return 1;
    }
    while ((count == 0 || seen < count) && idle_ms < 3000) {
        simpul_stream_event ev;
        rc = simpul_stream_next(s, 200, &ev);
        if (rc == SIMPUL_STREAM_OK) {
            printf("%" PRIu64 " %s %s %" PRIu64 " %s\n", ev.offset, ev.topic, ev.origin, ev.seq,
                   ev.live ? "live" : "replay");
            seen++;
            idle_ms = 0;
        } else if (rc == SIMPUL_STREAM_TIMEOUT || rc == SIMPUL_STREAM_UNREACHABLE) {
            idle_ms += 200;
        } else {
            fprintf(stderr, "next: %s\n", simpul_stream_strerror(rc));
            break;
        }
    }
    fprintf(stderr, "resume from %" PRIu64 "\n", simpul_stream_position(s));
    simpul_stream_close(s);
    return rc < 0 ? 1 : 0;
}
