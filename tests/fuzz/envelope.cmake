sp_fuzz(NAME fuzz_envelope SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_envelope.c LIBS sp_broker)
# What peers send the replicator, requests and replies, on a real replicator and store (issue
# 13); seed corpus in fuzz/corpus/peer/.
sp_fuzz(NAME fuzz_peer SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_peer.c LIBS sp_broker)
# The integrator stream's wire: replay requests at the node, replay answers and live messages
# at the tail client (issue 13); seed corpus in fuzz/corpus/replay/.
sp_fuzz(NAME fuzz_replay SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_replay.c LIBS sp_broker)
