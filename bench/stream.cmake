# bench_stream: the integrator stream of a real node (issue 15): replay from a cursor against
# the stored arrivals' own iteration, live publish to 1 and 10 clients, commit -> client delay.
add_executable(bench_stream ${CMAKE_CURRENT_SOURCE_DIR}/bench_stream.c)
target_link_libraries(bench_stream PRIVATE sp_node)
sp_bench_smoke(bench_stream)
