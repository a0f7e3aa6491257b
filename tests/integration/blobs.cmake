# Attachments across the federation (defect 5).
# sp_replicator_ask, which carries the fetch: any node, counting, timeouts, stop, a full queue.
sp_test(NAME blob_ask_test SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/integration/blob_ask_test.c
        LIBS sp_broker LABELS "integration;sanitize" TIMEOUT 60)
