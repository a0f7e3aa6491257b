# A real node in the test's process (node_fixture.h), for fuzz_http and the tests below.
add_library(sp_fixture STATIC ${CMAKE_CURRENT_SOURCE_DIR}/integration/node_fixture.c
            ${CMAKE_CURRENT_SOURCE_DIR}/integration/node_fixture_http.c)
target_link_libraries(sp_fixture PUBLIC sp_node)
# Hostile complaint ids on every route that takes one (the double free fixed in 7086579):
# each gets a 4xx JSON answer and the node still answers /healthz. Runs again under ASan.
sp_test(NAME http_hostile_test SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/integration/http_hostile_test.c
        LIBS sp_fixture LABELS "integration;sanitize" TIMEOUT 120)
