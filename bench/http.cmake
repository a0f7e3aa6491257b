# bench_http: complaints acknowledged per second by a running node's HTTP intake (issue 7).
# Its smoke run starts a node of its own in the process (the test fixture of the HTTP tests).
add_executable(bench_http ${CMAKE_CURRENT_SOURCE_DIR}/bench_http.c)
target_link_libraries(bench_http PRIVATE sp_fixture)
sp_bench_smoke(bench_http)
