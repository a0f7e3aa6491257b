# bench_http: complaints acknowledged per second by a running node's HTTP intake (issue 7).
add_executable(bench_http ${CMAKE_CURRENT_SOURCE_DIR}/bench_http.c)
