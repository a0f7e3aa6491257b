# The whole HTTP API (every route, the real handlers, store and batcher of a node started in
# the process; served in memory): seed corpus in fuzz/corpus/http/, one request per route and
# every input that once crashed the node. The node fixture is a library of
# integration/http_hostile.cmake.
sp_fuzz(NAME fuzz_http SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_http.c LIBS sp_fixture)
